import TestSupport
import Testing
import Trading

@testable import API

/// `POST /v1/backtests` answers exact fixed-point money: decimals that `Double` could not hold, fees rounded up,
/// and amounts beyond range refused.
extension BacktestRoutesTests {
    /// Candles a minute apart from `start` with these opens and closes, all within `low…high`, given as JSON
    /// numbers (their digits, as written).
    static func candles(opens: [String], closes: [String], high: String, low: String) -> JSONValue {
        .array(
            zip(opens, closes).enumerated().map { index, price in
                [
                    "open_time": .int(start + Int64(index) * 60_000), "open": .number(price.0), "high": .number(high),
                    "low": .number(low), "close": .number(price.1), "volume": 0,
                ]
            })
    }

    /// Prices 0.1, 0.2, 0.3 as JSON numbers, fees 10 bps, cash 0.3003 (see `BacktestTests`): the buy of 3 at 0.1
    /// costs 0.3 + 0.0003, exactly the cash (in `Double` 0.30030000000000007, and skipped); the sell at 0.2
    /// brings 0.6 − 0.0006 = 0.5994, pnl 0.2991. Equity marks 3 × 0.3 = 0.9 at the peak.
    @Test func decimalPricesAreAnsweredExactly() async throws {
        let rules: JSONValue = [
            Self.crossing("crosses_above", .number("0.15"), "buy", "3"),
            Self.crossing("crosses_above", .number("0.25"), "sell", "3"),
        ]
        let candles = Self.candles(
            opens: ["0.1", "0.1", "0.1", "0.2"], closes: ["0.1", "0.2", "0.3", "0.3"], high: "0.3", low: "0.1")
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("bettina")
            let response = try await server.call(
                .post, "/v1/backtests", json: Self.body(candles: candles, rules: rules, cash: "0.3003", fee: 10),
                token: token)
            #expect(response.status == 200, "\(response.text)")
            let equity = ["0.3003", "0.3003", "0.9", "0.5994"].map { try! Amount(parsing: $0) }
            let sharpe = BacktestResult.sharpe(BacktestResult.returns(equity), periodsPerYear: 525_600)
            let expected: JSONValue = [
                "trades": [
                    [
                        "entry_time": .int(Self.start + 120_000), "entry_price": "0.10000000",
                        "exit_time": .int(Self.start + 180_000), "exit_price": "0.20000000", "quantity": "3.00000000",
                        "pnl": "0.29910000",
                    ]
                ],
                "final_equity": "0.59940000", "return_pct": Self.percent(59_940_000 - 30_030_000, of: 30_030_000),
                "max_drawdown_pct": Self.percent(90_000_000 - 59_940_000, of: 90_000_000),
                "sharpe": .double(try #require(sharpe)),
                "trade_count": 1, "win_rate": 1,
            ]
            #expect(response.json == expected)
        }
    }

    /// Fees round up to 0.00000001: a buy of 1 at 0.00001234 pays ⌈1.234⌉ = 2 units at 10 bps, the sell at
    /// 0.00001 exactly 1; pnl 999 − 1236 = −237 units, answered as "-0.00000237".
    @Test func feesRoundUpAndNegativeAmountsAreAnsweredExactly() async throws {
        let rules: JSONValue = [
            Self.crossing("crosses_above", .number("0.000015"), "buy", "1"),
            Self.crossing("crosses_below", .number("0.000015"), "sell", "1"),
        ]
        let candles = Self.candles(
            opens: ["0.00001", "0.00001", "0.00001234", "0.00001"],
            closes: ["0.00001", "0.00002", "0.00001", "0.00001"], high: "0.00002", low: "0.00001")
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("benno")
            let response = try await server.call(
                .post, "/v1/backtests", json: Self.body(candles: candles, rules: rules, cash: "1", fee: 10),
                token: token)
            #expect(response.status == 200, "\(response.text)")
            #expect(response.json["trades"]?.arrayValue?.first?["pnl"] == "-0.00000237")
            #expect(response.json["final_equity"] == "0.99999763")
        }
    }

    /// Holding 1000 marked at 92233720368 is beyond the largest amount: a 400 naming the candle, not a trap.
    @Test func equityBeyondTheLargestAmountIs400() async throws {
        let candles = Self.candles(
            opens: ["1", "1", "1"], closes: ["1", "2", "92233720368"], high: "92233720368", low: "1")
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("bertil")
            let response = try await server.call(
                .post, "/v1/backtests",
                json: Self.body(candles: candles, rules: [Self.crossing(">", .number("1.5"), "buy", "1000")], fee: 0),
                token: token)
            #expect(response.status == 400, "\(response.text)")
            #expect(response.errorCode == "VALIDATION_ERROR")
            #expect(
                response.errorMessage
                    == "candles[2].close: the equity at this close is beyond the largest amount (92233720368.54775807)")
            // With `details`, as every other problem of a backtest request.
            #expect(
                response.json["error"]?["details"]
                    == [
                        [
                            "path": "candles[2].close",
                            "message": "the equity at this close is beyond the largest amount (92233720368.54775807)",
                        ]
                    ])
        }
    }
}
