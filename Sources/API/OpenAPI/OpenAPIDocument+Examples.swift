/// Example request bodies (JSON Schema `examples` on the request schemas).
///
/// One request that works for each body an operation takes, so that the document shows a whole request and
/// an API fuzzer (scripts/fuzz-api) starts from requests that reach the exchange instead of being refused
/// at the first unknown symbol or off-grid price. `APIFuzzRegressionTests` checks that each example is
/// valid against its schema and accepted by the server.
extension OpenAPIDocument {
    /// Schema name and its example.
    static func requestExamples() -> [(schema: String, example: JSONValue)] {
        let order: JSONValue = [
            "symbol": "BTC-USD", "side": "buy", "type": "limit", "quantity": "0.01", "price": "50000.25",
        ]
        let rule: JSONValue = [
            "when": ["left": ["indicator": "rsi", "period": 14], "op": "<", "right": ["value": 30]],
            "action": ["side": "buy", "quantity": "0.001"],
        ]
        return [
            ("Credentials", ["username": "alice", "password": "correct-horse"]),
            ("MoneyRequest", ["currency": "USD", "amount": "100000"]),
            ("OrderRequest", order),
            ("AmendRequest", ["price": "49000", "quantity": "0.005"]),
            ("BatchRequest", ["orders": [order]]),
            ("StrategyRequest", ["name": "dip", "symbol": "BTC-USD", "rules": [rule], "cooldown_seconds": 300]),
            ("IndicatorRequest", ["name": "sma", "params": ["period": 3], "closes": [1, 2, 3, 4]]),
            ("BacktestRequest", backtestExample()),
            (
                "MarketSpec",
                [
                    "symbol": "DOGE-USD", "base": "DOGE", "quote": "USD", "tick_size": "0.0001", "lot_size": "1",
                    "min_quantity": "1", "maker_fee_bps": 10, "taker_fee_bps": 20,
                ]
            ),
        ]
    }

    /// Buys below 101 and sells above 103 over three one-minute candles: one round trip.
    static func backtestExample() -> JSONValue {
        func rule(_ op: String, _ value: Int, _ side: String) -> JSONValue {
            [
                "when": ["left": ["indicator": "price"], "op": .string(op), "right": ["value": .int(value)]],
                "action": ["side": .string(side), "quantity": "1"],
            ]
        }
        func candle(_ minute: Int, _ open: String, _ high: String, _ low: String, _ close: String) -> JSONValue {
            [
                "open_time": .string("2024-05-01T12:0\(minute):00.000Z"), "open": .string(open),
                "high": .string(high), "low": .string(low), "close": .string(close), "volume": "5",
            ]
        }
        return [
            "rules": [rule("<", 101, "buy"), rule(">", 103, "sell")],
            "candles": [
                candle(0, "100", "101", "99", "100"), candle(1, "101", "105", "100", "104"),
                candle(2, "104", "106", "103", "105"),
            ],
            "initial_cash": "10000", "fee_bps": 10,
        ]
    }

    /// `schemas` with each request example added to its schema.
    static func addingExamples(to schemas: JSONObject) -> JSONObject {
        var schemas = schemas
        for (name, example) in requestExamples() {
            guard var schema = schemas[name]?.objectValue else { continue }
            schema["examples"] = [example]
            schemas[name] = .object(schema)
        }
        return schemas
    }
}
