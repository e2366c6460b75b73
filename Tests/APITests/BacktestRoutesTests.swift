import TestSupport
import Testing
import Trading

@testable import API

/// `POST /v1/backtests` over HTTP: the answer's exact JSON (money as exact 8-decimal strings), refusals with
/// their paths, and agreement with the Trading backtester on a larger series.
@Suite("Backtest routes")
struct BacktestRoutesTests {
    static let start: Int64 = 1_704_067_200_000

    static func crossing(_ op: String, _ value: JSONValue, _ side: String, _ quantity: String) -> JSONValue {
        [
            "when": ["left": ["indicator": "price"], "op": .string(op), "right": ["value": value]],
            "action": ["side": .string(side), "quantity": .string(quantity)],
        ]
    }

    /// Buy 2 when the price crosses above 100, sell 2 when it crosses below.
    static let rules: JSONValue = [
        crossing("crosses_above", 100, "buy", "2"), crossing("crosses_below", 100, "sell", "2"),
    ]

    /// (open, high, low, close): the price crosses above 100 at close 1 (buy at open 2, 100) and below at close 3
    /// (sell at open 4, 125), and stays below.
    static let prices: [(Double, Double, Double, Double)] = [
        (99, 99, 98, 98), (98, 101, 98, 101), (100, 104, 100, 104), (104, 104, 96, 96), (125, 125, 95, 95),
        (95, 95, 95, 95),
    ]

    static func candles(time: (Int64) -> JSONValue) -> JSONValue {
        .array(
            prices.enumerated().map { index, candle in
                [
                    "open_time": time(start + Int64(index) * 60_000), "open": .double(candle.0),
                    "high": .double(candle.1), "low": .double(candle.2), "close": .double(candle.3), "volume": "1.5",
                ]
            })
    }

    static func body(candles: JSONValue, rules: JSONValue = rules, cash: JSONValue = "1000", fee: JSONValue = 100)
        -> JSONValue
    {
        ["rules": rules, "candles": candles, "initial_cash": cash, "fee_bps": fee]
    }

    static let rfc3339Candles = candles { .string(Timestamp.rfc3339(millis: $0)) }

    /// `part / whole × 100` as a JSON number, as the answer computes percentages from exact amounts (units).
    static func percent(_ part: Int64, of whole: Int64) -> JSONValue { .double(Double(part) / Double(whole) * 100) }

    static func paths(_ response: APIResponse) -> [String] {
        (response.json["error"]?["details"]?.arrayValue ?? []).map { $0["path"]?.stringValue ?? "?" }
    }

    @Test func aSmallBacktestAnswersItsTradesAndStatistics() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("bianca")
            let response = try await server.call(
                .post, "/v1/backtests", json: Self.body(candles: Self.rfc3339Candles), token: token)
            #expect(response.status == 200, "\(response.text)")
            // By hand: buy 2 at 100: notional 200, fee 1% = 2, cash 1000 − 202 = 798. Marked at the closes 104
            // and 96: 798 + 208 = 1006, 798 + 192 = 990. Sell 2 at 125: 250 − 2.5 = 247.5, cash 1045.5. pnl
            // 247.5 − 202 = 45.5 ("45.50000000"); final equity "1045.50000000". No amount needs rounding.
            let equity = ["1000", "1000", "1006", "990", "1045.5", "1045.5"].map { try! Amount(parsing: $0) }
            let sharpe = BacktestResult.sharpe(BacktestResult.returns(equity), periodsPerYear: 525_600)
            let expected: JSONValue = [
                "trades": [
                    [
                        "entry_time": "2024-01-01T00:02:00.000Z", "entry_price": "100.00000000",
                        "exit_time": "2024-01-01T00:04:00.000Z", "exit_price": "125.00000000",
                        "quantity": "2.00000000", "pnl": "45.50000000",
                    ]
                ],
                "final_equity": "1045.50000000", "return_pct": Self.percent(4_550_000_000, of: 100_000_000_000),
                "max_drawdown_pct": Self.percent(1_600_000_000, of: 100_600_000_000),
                "sharpe": .double(try #require(sharpe)),
                "trade_count": 1, "win_rate": 1,
            ]
            #expect(response.json == expected)
            #expect(response.text.hasPrefix(#"{"trades":[{"entry_time":"2024-01-01T00:02:00.000Z","#))
        }
    }

    @Test func timesComeBackInTheFormTheCandlesGaveThem() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("boris")
            let millis = try await server.call(
                .post, "/v1/backtests", json: Self.body(candles: Self.candles { .int($0) }), token: token)
            #expect(millis.status == 200, "\(millis.text)")
            let trade = millis.json["trades"]?.arrayValue?.first
            #expect(trade?["entry_time"] == .int(Self.start + 120_000))
            #expect(trade?["exit_time"] == .int(Self.start + 240_000))
            // Any RFC 3339 offset is read; the answer is in UTC with milliseconds.
            let offset = Self.candles { millis in
                .string(Timestamp.rfc3339(millis: millis + 3_600_000).replacingOccurrences(of: ".000Z", with: "+01:00"))
            }
            let zoned = try await server.call(.post, "/v1/backtests", json: Self.body(candles: offset), token: token)
            #expect(zoned.status == 200, "\(zoned.text)")
            #expect(zoned.json["trades"]?.arrayValue?.first?["entry_time"] == "2024-01-01T00:02:00.000Z")
        }
    }

    @Test func withoutATokenItIs401() async throws {
        try await TestServer.run { server in
            let response = try await server.call(.post, "/v1/backtests", json: Self.body(candles: Self.rfc3339Candles))
            #expect(response.status == 401)
            #expect(response.errorCode == "UNAUTHORIZED")
        }
    }

    @Test func impossibleRulesAre422WithTheirPaths() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("bruno")
            let rules: JSONValue = [
                [
                    "when": ["left": ["indicator": "sma", "period": 0], "op": "<", "right": ["indicator": "price"]],
                    "action": ["side": "buy", "quantity": "1"],
                ],
                [
                    "when": [
                        "not": [
                            "left": ["indicator": "price"], "op": ">",
                            "right": ["indicator": "ema", "period": 5, "interval": "5m"],
                        ]
                    ],
                    "action": ["side": "sell", "quantity": "1"],
                ],
            ]
            let response = try await server.call(
                .post, "/v1/backtests", json: Self.body(candles: Self.rfc3339Candles, rules: rules), token: token)
            #expect(response.status == 422)
            #expect(response.errorCode == "INVALID_STRATEGY")
            #expect(Self.paths(response) == ["rules[0].when.left.period", "rules[1].when.not.right.interval"])
            #expect(
                response.errorMessage
                    == "rules[0].when.left.period: sma period must be between 1 and 1000, not 0 (and 1 more problem)")
            let none = try await server.call(
                .post, "/v1/backtests", json: Self.body(candles: Self.rfc3339Candles, rules: []), token: token)
            #expect(none.status == 422)
            #expect(Self.paths(none) == ["rules"])
        }
    }

    /// `interval` names the candles' interval: operands naming none read them, one naming another is refused.
    @Test func theCandlesIntervalIsTheOnlyOneOperandsMayName() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("bella")
            let rules: JSONValue = [
                [
                    "when": [
                        "all": [
                            ["left": ["indicator": "price"], "op": ">", "right": ["indicator": "sma", "period": 2]],
                            [
                                "left": ["indicator": "volume", "interval": "1h"], "op": ">",
                                "right": ["value": 1],
                            ],
                        ]
                    ],
                    "action": ["side": "buy", "quantity": "1"],
                ]
            ]
            var object = try #require(Self.body(candles: Self.rfc3339Candles, rules: rules).objectValue)
            object["interval"] = "1h"
            let hourly = try await server.call(.post, "/v1/backtests", json: .object(object), token: token)
            #expect(hourly.status == 200, "\(hourly.text)")
            object["interval"] = nil
            let minutes = try await server.call(.post, "/v1/backtests", json: .object(object), token: token)
            #expect(minutes.status == 422)
            #expect(Self.paths(minutes) == ["rules[0].when.all[1].left.interval"])
            object["interval"] = "2h"
            let unknown = try await server.call(.post, "/v1/backtests", json: .object(object), token: token)
            #expect(unknown.status == 400)
            #expect(Self.paths(unknown) == ["interval"])
        }
    }

    @Test func badCandlesCashAndFeesAre400WithTheirPaths() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("beryl")
            func candles(_ change: (inout [JSONObject]) -> Void) -> JSONValue {
                var objects = Self.rfc3339Candles.arrayValue!.map { $0.objectValue! }
                change(&objects)
                return .array(objects.map(JSONValue.object))
            }
            let cases: [(JSONValue, String)] = [
                (Self.body(candles: candles { $0[2]["open_time"] = $0[1]["open_time"] }), "candles[2].open_time"),
                (Self.body(candles: candles { $0[3]["open_time"] = "2024-01-01" }), "candles[3].open_time"),
                (Self.body(candles: candles { $0[3]["open_time"] = .int(Self.start) }), "candles[3].open_time"),
                (Self.body(candles: candles { $0[1]["high"] = 97 }), "candles[1].high"),
                (Self.body(candles: candles { $0[1]["open"] = 102 }), "candles[1].open"),
                (Self.body(candles: candles { $0[4]["close"] = 126 }), "candles[4].close"),
                (Self.body(candles: candles { $0[0]["volume"] = -1 }), "candles[0].volume"),
                (Self.body(candles: candles { $0[0]["close"] = "abc" }), "candles[0].close"),
                (Self.body(candles: candles { $0[0]["close"] = .number("98.000000001") }), "candles[0].close"),
                (Self.body(candles: candles { $0[2]["volume"] = true }), "candles[2].volume"),
                (Self.body(candles: candles { $0[2]["high"] = "1e12" }), "candles[2].high"),
                (Self.body(candles: candles { $0[5]["low"] = nil }), "candles[5].low"),
                (Self.body(candles: candles { $0[0]["open_time"] = nil }), "candles[0].open_time"),
                (Self.body(candles: [1]), "candles[0]"),
                (Self.body(candles: []), "candles"),
                (Self.body(candles: "none"), "candles"),
                (Self.body(candles: Self.rfc3339Candles, cash: "0"), "initial_cash"),
                (Self.body(candles: Self.rfc3339Candles, cash: "-5"), "initial_cash"),
                (Self.body(candles: Self.rfc3339Candles, cash: "0.000000001"), "initial_cash"),
                (Self.body(candles: Self.rfc3339Candles, fee: 1001), "fee_bps"),
                (Self.body(candles: Self.rfc3339Candles, fee: -1), "fee_bps"),
                (Self.body(candles: Self.rfc3339Candles, fee: "x"), "fee_bps"),
                (Self.body(candles: Self.rfc3339Candles, fee: .number("0.00001")), "fee_bps"),
                (
                    Self.body(candles: Self.rfc3339Candles, rules: [Self.crossing(">", 1, "hold", "1")]),
                    "rules[0].action.side"
                ),
                (
                    Self.body(candles: Self.rfc3339Candles, rules: [Self.crossing(">", 1, "buy", "0")]),
                    "rules[0].action.quantity"
                ),
            ]
            for (body, path) in cases {
                let response = try await server.call(.post, "/v1/backtests", json: body, token: token)
                #expect(response.status == 400, "\(path): \(response.text)")
                #expect(response.errorCode == "VALIDATION_ERROR", "\(path)")
                #expect(Self.paths(response) == [path], "\(response.text)")
                #expect(response.errorMessage?.hasPrefix("\(path): ") == true, "\(response.text)")
            }
            var missing = Self.body(candles: Self.rfc3339Candles).objectValue!
            missing["fee_bps"] = nil
            missing["initial_cash"] = nil
            let response = try await server.call(.post, "/v1/backtests", json: .object(missing), token: token)
            #expect(response.status == 400)
            #expect(Self.paths(response) == ["initial_cash", "fee_bps"])
        }
    }

    /// One candle over the bound still fits the default body limit, so the client learns the bound.
    @Test func tooManyCandlesIs400UnderTheDefaultBodyLimit() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("boyd")
            func body(_ count: Int) -> JSONValue {
                let candles = (0..<count).map { index -> JSONValue in
                    ["open_time": .int(index), "open": 1, "high": 1, "low": 1, "close": 1, "volume": 0]
                }
                return Self.body(candles: .array(candles), rules: [Self.crossing(">", 1, "buy", "1")])
            }
            let over = body(BacktestRequest.maxCandles + 1)
            #expect(JSONWriter.bytes(over).count <= APIConfiguration().limits.bodyBytes)
            let refused = try await server.call(.post, "/v1/backtests", json: over, token: token)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(Self.paths(refused) == ["candles"])
            let accepted = try await server.call(
                .post, "/v1/backtests", json: body(BacktestRequest.maxCandles), token: token)
            #expect(accepted.status == 200, "\(accepted.text)")
        }
    }

    /// A random walk of the most candles allowed, with rules reading RSI, MACD, Bollinger bands and volume:
    /// the route answers what the Trading backtester computes, rendered.
    @Test func aLargerSeriesAgreesWithTheBacktesterItself() async throws {
        var random = SeededRandom(seed: 2024)
        // Prices in cents, volumes in tenths, as exact amounts (a cent is 10⁶ units).
        let cent: Int64 = 1_000_000
        var close: Int64 = 25_000
        var candles: [BacktestCandle] = []
        for index in 0..<BacktestRequest.maxCandles {
            let open = close
            close = max(100, (open * (10_000 + random.int(in: -150...150)) + 5_000) / 10_000)
            let high = max(open, close) + random.int(in: 0...80)
            let low = max(50, min(open, close) - random.int(in: 0...80))
            candles.append(
                BacktestCandle(
                    openTime: Self.start + Int64(index) * 900_000, open: Amount(units: open * cent),
                    high: Amount(units: high * cent), low: Amount(units: low * cent),
                    close: Amount(units: close * cent), volume: Amount(units: random.int(in: 0...5_000) * 10 * cent)))
        }
        let rsi = Operand.indicator(IndicatorOperand(.rsi(period: 14), interval: .m15))
        let histogram = Operand.indicator(
            IndicatorOperand(.macd(fast: 12, slow: 26, signal: 9), field: .histogram, interval: .m15))
        let lower = Operand.indicator(IndicatorOperand(.bollinger(period: 20, k: 2), field: .lower, interval: .m15))
        let price = Operand.indicator(IndicatorOperand(.price, interval: .m15))
        let volume = Operand.indicator(IndicatorOperand(.volume, interval: .m15))
        let rules = [
            BacktestRule(
                when: .any([
                    .comparison(Comparison(rsi, .crossesAbove, .value(30))),
                    .comparison(Comparison(price, .crossesBelow, lower)),
                ]), side: .buy, quantity: try Amount(parsing: "1.5")),
            BacktestRule(
                when: .all([
                    .comparison(Comparison(histogram, .crossesBelow, .value(0))),
                    .not(.comparison(Comparison(volume, .lessThan, .value(50)))),
                ]), side: .sell, quantity: try Amount(parsing: "2")),
        ]
        let direct = try Backtest(rules: rules, interval: .m15).run(
            candles, initialCash: try Amount(parsing: "5000"), fee: try BacktestFeeRate(parsing: "12.5"))
        #expect(direct.tradeCount > 5)
        let rulesJSON: JSONValue = [
            [
                "when": [
                    "any": [
                        ["left": ["indicator": "rsi", "period": 14], "op": "crosses_above", "right": ["value": 30]],
                        [
                            "left": ["indicator": "price"], "op": "crosses_below",
                            "right": ["indicator": "bollinger", "period": 20, "stddev": 2, "field": "lower"],
                        ],
                    ]
                ],
                "action": ["side": "buy", "quantity": "1.5"],
            ],
            [
                "when": [
                    "all": [
                        [
                            "left": ["indicator": "macd", "fast": 12, "slow": 26, "signal": 9, "field": "histogram"],
                            "op": "crosses_below", "right": ["value": 0],
                        ],
                        [
                            "not": [
                                "left": ["indicator": "volume", "interval": "15m"], "op": "<", "right": ["value": 50],
                            ]
                        ],
                    ]
                ],
                "action": ["side": "sell", "quantity": 2],
            ],
        ]
        // Numbers as the shortest decimals ("250.37"), the volume as a string.
        let number = { (amount: Amount) in
            JSONValue.number(FixedDecimal.format(amount.units, scale: 8, fractionDigits: 0))
        }
        let candlesJSON = JSONValue.array(
            candles.map { candle in
                [
                    "open_time": .int(candle.openTime), "open": number(candle.open), "high": number(candle.high),
                    "low": number(candle.low), "close": number(candle.close),
                    "volume": .string(candle.volume.description),
                ]
            })
        let body: JSONValue = [
            "rules": rulesJSON, "candles": candlesJSON, "initial_cash": "5000", "fee_bps": .number("12.5"),
            "interval": "15m",
        ]
        try await TestServer.run(configure: { $0.limits.bodyBytes = 1 << 20 }) { server in
            let (token, _) = try await server.signUp("basil")
            let response = try await server.call(.post, "/v1/backtests", json: body, token: token)
            #expect(response.status == 200, "\(response.text.prefix(500))")
            #expect(response.json == BacktestRoutes.render(direct, time: .epochMillis))
        }
    }

    @Test func rfc3339TimesAreReadExactly() {
        #expect(CandleTime.parseRFC3339("2024-01-01T00:00:00Z") == Self.start)
        #expect(CandleTime.parseRFC3339("2024-01-01t00:00:00.25z") == Self.start + 250)
        #expect(CandleTime.parseRFC3339("2024-01-01T00:00:00.123999Z") == Self.start + 123)
        #expect(CandleTime.parseRFC3339("2024-01-01T01:30:00+01:30") == Self.start)
        #expect(CandleTime.parseRFC3339("2023-12-31T19:00:00-05:00") == Self.start)
        #expect(CandleTime.parseRFC3339("2024-02-29T00:00:00.000Z") == Self.start + 59 * 86_400_000)
        for bad in [
            "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z", "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00", "2024-01-01T00:00:00.Z", "1969-12-31T23:59:59.999Z", "2024-01-01T00:00:00+0100",
            "2024-1-01T00:00:00Z",
        ] {
            #expect(CandleTime.parseRFC3339(bad) == nil, "\(bad)")
        }
        #expect(CandleTime.parseRFC3339("1970-01-01T00:00:00.000Z") == 0)
        #expect(CandleTime.parseRFC3339("9999-12-31T23:59:59.999Z") == CandleTime.maxMillis)
    }
}
