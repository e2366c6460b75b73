import Foundation
import TestSupport
import Testing
import Trading

@testable import API

@Suite("Strategy routes")
struct StrategyRoutesTests {
    static let rsiBelow30: JSONValue = [
        "left": ["indicator": "rsi", "period": 14], "op": "<", "right": ["value": 30],
    ]

    /// A valid strategy: buy when RSI(14) < 30 and the price crosses above its 5m SMA(20); sell on the MACD
    /// histogram turning negative or the price above the upper Bollinger band.
    static let strategy: JSONValue = [
        "name": "mean reversion", "symbol": "BTC-USD", "cooldown_seconds": 300,
        "rules": [
            [
                "when": [
                    "all": [
                        rsiBelow30,
                        [
                            "left": ["indicator": "price"], "op": "crosses_above",
                            "right": ["indicator": "sma", "period": 20, "interval": "5m"],
                        ],
                    ]
                ],
                "action": ["side": "buy", "quantity": "0.001"],
            ],
            [
                "when": [
                    "any": [
                        [
                            "left": ["indicator": "macd", "fast": 12, "slow": 26, "signal": 9, "field": "histogram"],
                            "op": "crosses_below", "right": ["value": 0],
                        ],
                        [
                            "not": [
                                "left": ["indicator": "price"], "op": "<=",
                                "right": ["indicator": "bollinger", "period": 20, "stddev": 2, "field": "upper"],
                            ]
                        ],
                        ["left": ["indicator": "volume"], "op": ">", "right": ["value": "12.5"]],
                    ]
                ],
                "action": ["side": "sell", "quantity": .number("0.001")],
            ],
        ],
    ]

    /// `strategy` with its first rule's `when` replaced.
    static func strategy(when: JSONValue) -> JSONValue {
        ["name": "s", "symbol": "BTC-USD", "rules": [["when": when, "action": ["side": "buy", "quantity": "0.001"]]]]
    }

    static func details(_ response: APIResponse) -> [String] {
        (response.json["error"]?["details"]?.arrayValue ?? []).map {
            "\($0["path"]?.stringValue ?? "?"): \($0["message"]?.stringValue ?? "?")"
        }
    }

    static func paths(_ response: APIResponse) -> [String] {
        (response.json["error"]?["details"]?.arrayValue ?? []).map { $0["path"]?.stringValue ?? "?" }
    }

    // MARK: - Validate

    @Test func aValidStrategyIsValid() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("vera")
            let response = try await server.call(.post, "/v1/strategies/validate", json: Self.strategy, token: token)
            #expect(response.status == 200, "\(response.text)")
            #expect(response.json == ["valid": true])
        }
    }

    @Test func impossibleRulesAre422WithEveryProblemAndItsPath() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("walt")
            let body: JSONValue = [
                "name": "bad", "symbol": "BTC-USD",
                "rules": [
                    [
                        "when": [
                            "all": [
                                ["left": ["indicator": "rsi", "period": 14], "op": ">", "right": ["value": 150]],
                                [
                                    "left": ["indicator": "sma", "period": 0], "op": "<",
                                    "right": ["indicator": "price"],
                                ],
                                [
                                    "left": [
                                        "indicator": "macd", "fast": 26, "slow": 12, "signal": 9, "field": "macd",
                                    ],
                                    "op": ">", "right": ["value": 0],
                                ],
                            ]
                        ],
                        "action": ["side": "buy", "quantity": "0.001"],
                    ],
                    [
                        "when": [
                            "any": [["not": ["any": []]], ["left": ["value": 1], "op": "<", "right": ["value": 2]]]
                        ],
                        "action": ["side": "sell", "quantity": "0.001"],
                    ],
                ],
            ]
            let response = try await server.call(.post, "/v1/strategies/validate", json: body, token: token)
            #expect(response.status == 422)
            #expect(response.errorCode == "INVALID_STRATEGY")
            #expect(
                Self.details(response) == [
                    "rules[0].when.all[0].right.value: rsi lies between 0 and 100: comparing it with 150 is meaningless",
                    "rules[0].when.all[1].left.period: sma period must be between 1 and 1000, not 0",
                    "rules[0].when.all[2].left.fast: macd fast period (26) must be less than its slow period (12)",
                    "rules[1].when.any[0].not.any: any needs at least one rule",
                    "rules[1].when.any[1]: compares a value with a value: the result never changes",
                ])
            #expect(
                response.errorMessage
                    == "rules[0].when.all[0].right.value: rsi lies between 0 and 100: comparing it with 150 is "
                    + "meaningless (and 4 more problems)")
        }
    }

    @Test func unreadableRuleTreesAre422Too() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("xena")
            let cases: [(JSONValue, [String])] = [
                (["left": ["indicator": "vwap"], "op": ">", "right": ["value": 1]], ["rules[0].when.left.indicator"]),
                (["left": ["indicator": "price"], "op": "!=", "right": ["value": 1]], ["rules[0].when.op"]),
                (
                    [
                        "left": ["indicator": "macd", "fast": 12, "slow": 26, "signal": 9], "op": ">",
                        "right": ["value": 0],
                    ],
                    ["rules[0].when.left.field"]
                ),
                (
                    [
                        "left": ["indicator": "bollinger", "period": 20, "stddev": 2, "field": "top"], "op": ">",
                        "right": ["indicator": "price", "interval": "2m"],
                    ],
                    ["rules[0].when.left.field", "rules[0].when.right.interval"]
                ),
                (
                    ["left": ["indicator": "sma", "period": 14, "field": "upper"], "op": ">", "right": ["value": 1]],
                    ["rules[0].when.left.field"]
                ),
                (
                    [
                        "left": ["indicator": "bollinger", "period": 20, "stddev": 0, "field": "lower"], "op": "<",
                        "right": ["indicator": "price"],
                    ],
                    ["rules[0].when.left.stddev"]
                ),
                (["left": ["indicator": "ema"], "op": ">", "right": ["value": 1]], ["rules[0].when.left.period"]),
                (
                    ["left": ["indicator": "ema", "period": .number("2.5")], "op": ">", "right": ["value": 1]],
                    ["rules[0].when.left.period"]
                ),
                (
                    ["left": ["indicator": "price", "period": 3], "op": ">", "right": ["value": 1]],
                    ["rules[0].when.left.period"]
                ),
                (
                    ["left": ["value": 1, "indicator": "price"], "op": ">", "right": ["value": 1]],
                    ["rules[0].when.left"]
                ),
                (["left": ["indicator": "price"], "op": ">"], ["rules[0].when.right"]),
                (["all": [], "any": []], ["rules[0].when"]),
                (["all": "x"], ["rules[0].when.all"]),
                (["all": [1]], ["rules[0].when.all[0]"]),
                (
                    [
                        "all": [
                            ["left": ["indicator": "rsi", "period": 14], "op": "<", "right": ["value": -1]],
                            ["bogus": 1],
                        ]
                    ],
                    ["rules[0].when.all[0].right.value", "rules[0].when.all[1]"]
                ),
                (
                    ["not": ["left": ["indicator": "price"], "op": ">", "right": ["value": 1], "extra": true]],
                    ["rules[0].when.not.extra"]
                ),
            ]
            for (when, paths) in cases {
                let response = try await server.call(
                    .post, "/v1/strategies/validate", json: Self.strategy(when: when), token: token)
                #expect(response.status == 422, "\(when)")
                #expect(response.errorCode == "INVALID_STRATEGY", "\(when)")
                #expect(Self.paths(response) == paths, "\(when): \(response.text)")
            }
        }
    }

    /// `not` wrapped `levels - 1` times around a comparison: a tree `levels` deep.
    static func nested(_ levels: Int) -> JSONValue {
        var tree: JSONValue = ["left": ["indicator": "price"], "op": ">", "right": ["value": 1]]
        for _ in 1..<levels { tree = ["not": tree] }
        return tree
    }

    @Test func sixteenLevelsAreValidAndSeventeenAreNot() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("yuri")
            let sixteen = try await server.call(
                .post, "/v1/strategies/validate", json: Self.strategy(when: Self.nested(16)), token: token)
            #expect(sixteen.status == 200)
            let seventeen = try await server.call(
                .post, "/v1/strategies/validate", json: Self.strategy(when: Self.nested(17)), token: token)
            #expect(seventeen.status == 422)
            let path = "rules[0].when" + String(repeating: ".not", count: 16)
            #expect(Self.details(seventeen) == ["\(path): rules may nest at most 16 levels deep"])
            let forty = try await server.call(
                .post, "/v1/strategies/validate", json: Self.strategy(when: Self.nested(40)), token: token)
            #expect(Self.paths(forty) == [path])
        }
    }

    @Test func aRequestNotShapedLikeAStrategyIs400WithDetails() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("zack")
            let body: JSONValue = [
                "symbol": "BTC-USD", "cooldown_seconds": -5,
                "rules": [
                    ["when": Self.rsiBelow30, "action": ["side": "hold", "quantity": "0.000001"]],
                    ["action": ["side": "buy", "quantity": "0"]],
                    ["when": ["all": []], "action": ["side": "buy"]],
                ],
            ]
            let response = try await server.call(.post, "/v1/strategies/validate", json: body, token: token)
            #expect(response.status == 400)
            #expect(response.errorCode == "VALIDATION_ERROR")
            #expect(
                Self.details(response) == [
                    "name: name is required",
                    "cooldown_seconds: cooldown_seconds must be a whole number of seconds from 0 to 2592000",
                    "rules[0].action.side: side must be one of buy, sell",
                    "rules[0].action.quantity: quantity must be a multiple of the lot size 0.00001",
                    "rules[1].when: when is required",
                    "rules[1].action.quantity: quantity must be positive",
                    "rules[2].when.all: all needs at least one rule",
                    "rules[2].action.quantity: quantity is required",
                ])
            #expect(response.errorMessage == "name: name is required (and 7 more problems)")

            let names: [JSONValue] = ["", "   ", .string(String(repeating: "x", count: 101)), 7]
            for name in names {
                var body = Self.strategy(when: Self.rsiBelow30).objectValue!
                body["name"] = name
                let response = try await server.call(
                    .post, "/v1/strategies/validate", json: .object(body), token: token)
                #expect(response.status == 400)
                #expect(Self.paths(response) == ["name"])
            }
            let notRules = try await server.call(
                .post, "/v1/strategies/validate", json: ["name": "n", "symbol": "BTC-USD", "rules": "x"], token: token)
            #expect(Self.paths(notRules) == ["rules"])
        }
    }

    @Test func ruleCountsAreBounded() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("abel")
            let rule: JSONValue = ["when": Self.rsiBelow30, "action": ["side": "buy", "quantity": "0.001"]]
            for count in [0, 21] {
                let body: JSONValue = [
                    "name": "n", "symbol": "BTC-USD", "rules": .array(Array(repeating: rule, count: count)),
                ]
                let response = try await server.call(.post, "/v1/strategies/validate", json: body, token: token)
                #expect(response.status == 422)
                #expect(Self.details(response) == ["rules: a strategy holds 1 to 20 rules, not \(count)"])
            }
            let twenty: JSONValue = [
                "name": "n", "symbol": "BTC-USD", "rules": .array(Array(repeating: rule, count: 20)),
            ]
            #expect(try await server.call(.post, "/v1/strategies/validate", json: twenty, token: token).status == 200)
        }
    }

    @Test func unknownSymbolsMalformedBodiesAndMissingTokens() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("bert")
            var body = Self.strategy.objectValue!
            body["symbol"] = "DOGE-USD"
            let unknown = try await server.call(.post, "/v1/strategies/validate", json: .object(body), token: token)
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "NOT_FOUND")
            let malformed = try await server.call(.post, "/v1/strategies/validate", body: #"{"name": "#, token: token)
            #expect(malformed.status == 400)
            #expect(malformed.errorCode == "VALIDATION_ERROR")
            let array = try await server.call(.post, "/v1/strategies/validate", body: "[]", token: token)
            #expect(array.status == 400)
            for path in ["/v1/strategies/validate", "/v1/indicators"] {
                let anonymous = try await server.call(.post, path, json: Self.strategy)
                #expect(anonymous.status == 401, "\(path)")
                #expect(anonymous.errorCode == "UNAUTHORIZED", "\(path)")
                let forged = try await server.call(.post, path, json: Self.strategy, token: "not-a-token")
                #expect(forged.status == 401, "\(path)")
            }
        }
    }
}

// MARK: - Indicators

extension StrategyRoutesTests {
    /// A wavy series with some noise, long enough for every indicator to warm up.
    static let closes: [Double] = (0..<150).map { index in
        let wave: Double = 10 * sin(Double(index) / 7)
        return 100 + wave + Double(index % 5) * 0.37
    }

    /// The values as the Trading indicators compute them.
    static func expected(_ spec: IndicatorSpec, _ field: IndicatorField) throws -> [Double?] {
        var indicator = try spec.makeIndicator()
        return closes.map { close in
            indicator.update(close: close, volume: 0)
            return indicator.value(field)
        }
    }

    static func values(_ response: APIResponse) -> [Double?]? {
        response.json["values"]?.arrayValue?.map { value -> Double? in
            guard case .number(let text) = value else { return nil }
            return Double(text)
        }
    }

    @Test func indicatorsAgreeWithTheTradingIndicators() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("cleo")
            let macd = IndicatorSpec.macd(fast: 12, slow: 26, signal: 9)
            let bands = IndicatorSpec.bollinger(period: 20, k: 2.5)
            let cases: [(String, JSONValue, IndicatorSpec, IndicatorField)] = [
                ("sma", ["period": 14], .sma(period: 14), .value),
                ("ema", ["period": 10], .ema(period: 10), .value),
                ("rsi", ["period": 14], .rsi(period: 14), .value),
                ("macd", ["fast": 12, "slow": 26, "signal": 9], macd, .macd),
                ("macd", ["fast": 12, "slow": 26, "signal": 9, "field": "signal"], macd, .signal),
                ("macd", ["fast": 12, "slow": 26, "signal": 9, "field": "histogram"], macd, .histogram),
                ("bollinger", ["period": 20, "stddev": .number("2.5")], bands, .middle),
                ("bollinger", ["period": 20, "stddev": "2.5", "field": "upper"], bands, .upper),
                ("bollinger", ["period": 20, "stddev": .number("2.5"), "field": "lower"], bands, .lower),
                ("bollinger", ["period": 20, "field": "upper"], .bollinger(period: 20, k: 2), .upper),
            ]
            for (name, params, spec, field) in cases {
                let body: JSONValue = [
                    "name": .string(name), "params": params, "closes": .array(Self.closes.map(JSONValue.double)),
                ]
                let response = try await server.call(.post, "/v1/indicators", json: body, token: token)
                #expect(response.status == 200, "\(name) \(params): \(response.text)")
                let values = try #require(Self.values(response))
                let expected = try Self.expected(spec, field)
                #expect(values == expected, "\(name) \(params)")
                // null exactly through the warm-up.
                #expect(values.prefix(while: { $0 == nil }).count == spec.lookback, "\(name)")
                #expect(values.dropFirst(spec.lookback).allSatisfy { $0 != nil }, "\(name)")
            }
        }
    }

    @Test func closesMayBeStringsAndTheSeriesMayBeShortOrEmpty() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("dora")
            let response = try await server.call(
                .post, "/v1/indicators",
                json: ["name": "sma", "params": ["period": 3], "closes": ["1", 2, "3.5", .number("4.5")]], token: token)
            #expect(Self.values(response) == [nil, nil, 6.5 / 3, 10.0 / 3])
            let empty = try await server.call(
                .post, "/v1/indicators", json: ["name": "rsi", "params": ["period": 14], "closes": []], token: token)
            #expect(empty.json == ["values": []])
            let short = try await server.call(
                .post, "/v1/indicators", json: ["name": "ema", "params": ["period": 5], "closes": [1, 2]], token: token)
            #expect(short.json == ["values": [nil, nil]])
        }
    }

    @Test func badRequestsAre400WithAClearMessage() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("emil")
            let cases: [(JSONValue, String)] = [
                (["name": "vwap", "params": [:], "closes": [1]], "name must be one of sma, ema, rsi, macd, bollinger"),
                (["params": ["period": 3], "closes": [1]], "name is required"),
                (
                    ["name": "sma", "params": ["period": 0], "closes": [1]],
                    "sma period must be between 1 and 1000, not 0"
                ),
                (
                    ["name": "rsi", "params": ["period": 1_001], "closes": [1]],
                    "rsi period must be between 1 and 1000, not 1001"
                ),
                (["name": "sma", "closes": [1]], "params.period is required"),
                (
                    ["name": "sma", "params": ["period": "14"], "closes": [1]],
                    "params.period must be an integer between 1 and 1000"
                ),
                (
                    ["name": "sma", "params": ["period": .number("2.5")], "closes": [1]],
                    "params.period must be an integer between 1 and 1000"
                ),
                (["name": "sma", "params": 14, "closes": [1]], "params must be a JSON object"),
                (
                    ["name": "sma", "params": ["period": 14, "stddev": 2], "closes": [1]],
                    "params.stddev is not a parameter of sma; it takes period"
                ),
                (
                    ["name": "macd", "params": ["fast": 26, "slow": 12, "signal": 9], "closes": [1]],
                    "macd fast period (26) must be less than its slow period (12)"
                ),
                (
                    [
                        "name": "macd", "params": ["fast": 12, "slow": 26, "signal": 9, "field": "upper"],
                        "closes": [1],
                    ],
                    "params.field must be one of macd, signal, histogram"
                ),
                (
                    ["name": "bollinger", "params": ["period": 20, "stddev": 0], "closes": [1]],
                    "bollinger k (stddev) must be positive and finite"
                ),
                (["name": "sma", "params": ["period": 3]], "closes is required"),
                (["name": "sma", "params": ["period": 3], "closes": [1, "x"]], "closes[1] must be a finite number"),
                (["name": "sma", "params": ["period": 3], "closes": [1, nil]], "closes[1] must be a finite number"),
                (["name": "sma", "params": ["period": 3], "closes": 1], "closes must be an array"),
            ]
            for (body, message) in cases {
                let response = try await server.call(.post, "/v1/indicators", json: body, token: token)
                #expect(response.status == 400, "\(body)")
                #expect(response.errorCode == "VALIDATION_ERROR", "\(body)")
                #expect(response.errorMessage == message, "\(body)")
            }
        }
    }

    @Test func theSeriesLengthIsBounded() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("fritz")
            func body(_ count: Int) -> String {
                #"{"name":"sma","params":{"period":2},"closes":["#
                    + Array(repeating: "1", count: count).joined(separator: ",") + "]}"
            }
            let atLimit = try await server.call(.post, "/v1/indicators", body: body(10_000), token: token)
            #expect(atLimit.status == 200)
            #expect(Self.values(atLimit)?.count == 10_000)
            let over = try await server.call(.post, "/v1/indicators", body: body(10_001), token: token)
            #expect(over.status == 400)
            #expect(over.errorMessage == "closes must hold at most 10000 numbers, not 10001")
        }
    }
}
