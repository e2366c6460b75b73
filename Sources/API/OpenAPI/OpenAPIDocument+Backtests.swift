/// `POST /v1/backtests` and its schemas.
extension OpenAPIDocument {
    static func backtestOperations() -> [(String, String, JSONValue)] {
        [
            (
                "/v1/backtests", "post",
                operation(
                    "runBacktest",
                    "Replay rules over given candles with the same indicator and rule code as live strategies. "
                        + "At each candle's close the first rule that holds (in order) places its order, as a live "
                        + "strategy fires (at most one order per close, no cooldown); it fills at the next candle's "
                        + "open (none after the last candle). Long only: a buy fills only if cash covers "
                        + "notional plus fee (else it is skipped); a sell sells what is held up to its quantity "
                        + "(skipped when nothing is held). Each fill pays fee_bps of its notional. Sells are matched "
                        + "against buys first in, first out; each matched part is a trade (round trip) whose pnl "
                        + "is after its pro-rata share of both fees; a position still open at the end is no trade "
                        + "but counts in final_equity (cash plus holdings at the last close). return_pct = "
                        + "(final_equity - initial_cash) / initial_cash x 100; max_drawdown_pct: the largest fall "
                        + "of equity at a close from an earlier peak (initial cash included), in percent; sharpe: "
                        + "mean / sample standard deviation of close-to-close equity returns x sqrt(candles per "
                        + "365-day year), null with fewer than 2 returns or none varying; win_rate: trades with "
                        + "pnl > 0 / trades, null without trades. interval (default 1m) is the candles' interval: "
                        + "an operand naming no interval reads the candles, one naming another interval is a 422 "
                        + "INVALID_STRATEGY at its path (rules[i].when...interval), as are impossible rules and a "
                        + "rule count outside 1-20. Malformed candles (missing or non-numeric member, more than 8 "
                        + "decimals, open_time not after the previous one, a price not positive, high < low, open "
                        + "or close outside [low, high], negative volume), more than 900 candles (so that the "
                        + "bound is reachable under the default 64 KiB body limit), initial_cash not positive, "
                        + "fee_bps outside 0-1000 or with more than 4 decimals, or a bad quantity are a 400 "
                        + "VALIDATION_ERROR with error.details [{path, message}]. Money is exact fixed point with "
                        + "8 decimals, as the exchange's: a buy's notional (price x quantity) is rounded up to "
                        + "0.00000001, a sell's down, holdings are marked at a close rounded down, and each fee is "
                        + "rounded up; a trade's pnl is its share of the sell's proceeds (rounded down) less its "
                        + "share of the buy's cost (rounded up), so the trades' pnl adds up exactly. A sell or a "
                        + "close that would take cash or equity beyond 92233720368.54775807 is a 400 "
                        + "VALIDATION_ERROR whose error.details names the candle (candles[i].open or .close); "
                        + "a buy costing more than the cash is skipped.",
                    tag: "Strategies", secured: true, body: ref("BacktestRequest"),
                    success: [(200, "The simulation's trades and statistics", ref("BacktestResult"))], errors: [422])
            )
        ]
    }

    static func backtestSchemas() -> JSONObject {
        let number: JSONValue = [
            "type": ["number", "string"],
            "description": "A decimal as a number or a string, at most 8 decimals, read exactly from its digits",
        ]
        let time: JSONValue = [
            "oneOf": [
                [
                    "type": "string", "format": "date-time",
                    "description": "RFC 3339; answered in UTC with milliseconds",
                ],
                ["type": "integer", "minimum": 0, "description": "Milliseconds since 1970"],
            ],
            "description": "Every candle uses the form of the first; trade times are answered in that form",
        ]
        let ratio: JSONValue = ["type": ["number", "null"]]
        return [
            "BacktestRequest": object(
                [
                    "rules": ["type": "array", "items": ref("BacktestRule"), "minItems": 1, "maxItems": 20],
                    "candles": ["type": "array", "items": ref("BacktestCandle"), "minItems": 1, "maxItems": 900],
                    "initial_cash": ref("DecimalInput"),
                    "fee_bps": [
                        "type": ["number", "string"],
                        "description": "Fee per fill in basis points of notional, 0-1000, at most 4 decimals",
                    ],
                    "interval": [
                        "type": "string", "enum": ["1m", "5m", "15m", "1h", "4h", "1d"], "default": "1m",
                        "description": "The candles' interval: the only one operands may name",
                    ],
                ], required: ["rules", "candles", "initial_cash", "fee_bps"]),
            "BacktestRule": object([
                "when": ref("Rule"),
                "action": object([
                    "side": ref("Side"),
                    "quantity": [
                        "type": ["string", "number"], "description": "Positive, at most 8 decimals",
                        "examples": ["0.5"],
                    ],
                ]),
            ]),
            "BacktestCandle": object([
                "open_time": time, "open": number, "high": number, "low": number, "close": number, "volume": number,
            ]),
            "BacktestTrade": object([
                "entry_time": time, "entry_price": ref("Amount"), "exit_time": time, "exit_price": ref("Amount"),
                "quantity": ref("Amount"), "pnl": ref("Amount"),
            ]),
            "BacktestResult": object([
                "trades": array(ref("BacktestTrade")), "final_equity": ref("Amount"), "return_pct": ["type": "number"],
                "max_drawdown_pct": ["type": "number", "minimum": 0], "sharpe": ratio,
                "trade_count": ["type": "integer", "minimum": 0], "win_rate": ratio,
            ]),
        ]
    }
}
