extension OpenAPIDocument {
    static func schemas() -> JSONObject {
        var schemas = JSONObject()
        schemas.members += primitiveSchemas().members
        schemas.members += authSchemas().members
        schemas.members += marketSchemas().members
        schemas.members += accountSchemas().members
        schemas.members += orderSchemas().members
        schemas.members += portfolioSchemas().members
        schemas.members += adminSchemas().members
        schemas.members += strategySchemas().members
        schemas.members += backtestSchemas().members
        return addingExamples(to: schemas)
    }

    static func primitiveSchemas() -> JSONObject {
        [
            "Error": object(
                [
                    "error": object(
                        [
                            "code": [
                                "type": "string",
                                "enum": [
                                    "VALIDATION_ERROR", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT",
                                    "PAYLOAD_TOO_LARGE", "INSUFFICIENT_FUNDS", "ORDER_REJECTED", "INVALID_STRATEGY",
                                    "RATE_LIMITED", "UNAVAILABLE", "INTERNAL",
                                ],
                            ],
                            "message": ["type": "string"],
                            "details": array(object(["path": ["type": "string"], "message": ["type": "string"]])),
                        ], required: ["code", "message"])
                ]),
            "Decimal": [
                "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$",
                "description": "A non-negative decimal on the market's grid", "examples": ["50000.25"],
            ],
            "DecimalInput": [
                "type": ["string", "number"],
                "description": "A decimal as a string (preferred) or a JSON number, read exactly from its digits",
                "examples": ["0.015"],
            ],
            "Amount": [
                "type": "string", "pattern": "^-?[0-9]+\\.[0-9]{8}$", "description": "A currency amount, 8 decimals",
                "examples": ["1000.00000000"],
            ],
            "Id": ["type": "string", "pattern": "^[0-9]+$", "examples": ["42"]],
            "Timestamp": ["type": "string", "format": "date-time", "examples": ["2024-05-01T12:00:00.250Z"]],
            "Side": ["type": "string", "enum": ["buy", "sell"]],
            "Status": object(["status": ["type": "string"]]),
        ]
    }

    static func authSchemas() -> JSONObject {
        [
            "Credentials": object([
                "username": ["type": "string", "pattern": "^[A-Za-z0-9_.-]{3,32}$"],
                "password": ["type": "string", "minLength": 8, "maxLength": 128],
            ]),
            "RegisteredUser": object(["user_id": ref("Id"), "username": ["type": "string"]]),
            "Tokens": object([
                "access_token": ["type": "string", "description": "RS256 JWT; sub = user id"],
                "refresh_token": ["type": "string"], "token_type": ["type": "string", "const": "Bearer"],
                "expires_in": ["type": "integer", "description": "Seconds"],
            ]),
            "RefreshRequest": object(["refresh_token": ["type": "string"]]),
            "Me": object(
                [
                    "user_id": ref("Id"), "username": ["type": "string"],
                    "role": ["type": "string", "enum": ["user", "admin"]], "created_at": ref("Timestamp"),
                ], required: ["user_id", "username", "created_at"]),
            "JWKS": object([
                "keys": array(
                    object(
                        [
                            "kty": ["type": "string", "const": "RSA"], "use": ["type": "string"],
                            "alg": ["type": "string", "const": "RS256"], "kid": ["type": "string"],
                            "n": ["type": "string"], "e": ["type": "string"],
                        ], required: ["kty", "kid", "n", "e"]))
            ]),
        ]
    }

    static func marketSchemas() -> JSONObject {
        let price = ref("Decimal")
        let optionalPrice = nullable("string", ["pattern": "^[0-9]+(\\.[0-9]+)?$"])
        return [
            "Market": object([
                "symbol": ["type": "string"], "base": ["type": "string"], "quote": ["type": "string"],
                "tick_size": price, "lot_size": price, "min_quantity": price, "maker_fee_bps": ["type": "integer"],
                "taker_fee_bps": ["type": "integer"], "status": ["type": "string", "enum": ["trading", "halted"]],
            ]),
            "Ticker": object([
                "symbol": ["type": "string"], "last_price": optionalPrice, "best_bid": optionalPrice,
                "best_ask": optionalPrice, "open_24h": optionalPrice, "high_24h": optionalPrice,
                "low_24h": optionalPrice, "volume_24h": price, "timestamp": ref("Timestamp"),
            ]),
            "OrderBook": object([
                "symbol": ["type": "string"], "sequence": ["type": "integer"],
                "bids": array(["type": "array", "prefixItems": [price, price], "minItems": 2, "maxItems": 2]),
                "asks": array(["type": "array", "prefixItems": [price, price], "minItems": 2, "maxItems": 2]),
            ]),
            "PublicTrade": object([
                "trade_id": ref("Id"), "price": price, "quantity": price, "taker_side": ref("Side"),
                "timestamp": ref("Timestamp"),
            ]),
            "Candle": object([
                "open_time": ref("Timestamp"), "open": price, "high": price, "low": price, "close": price,
                "volume": price,
            ]),
            "StreamEvent": object(
                [
                    "channel": ["type": "string"], "sequence": ["type": "integer"],
                    "data": [
                        "oneOf": [ref("Ticker"), ref("OrderBook"), ref("PublicTrade"), ref("Order")],
                        "description": "Ticker, OrderBook, PublicTrade (with symbol) or Order, by channel",
                    ],
                ], description: "One `data:` line of GET /v1/stream"),
        ]
    }

    static func accountSchemas() -> JSONObject {
        [
            "MoneyRequest": object([
                "currency": ["type": "string", "pattern": "^[A-Z0-9]{1,10}$"], "amount": ref("DecimalInput"),
            ]),
            "BalanceChange": object([
                "transaction_id": ["type": "string"], "currency": ["type": "string"], "available": ref("Amount"),
                "locked": ref("Amount"),
            ]),
            "Balance": object([
                "currency": ["type": "string"], "available": ref("Amount"), "locked": ref("Amount"),
                "total": ref("Amount"),
            ]),
            "Transaction": object(
                [
                    "id": ref("Id"),
                    "type": ["type": "string", "enum": ["DEPOSIT", "WITHDRAWAL", "LOCK", "UNLOCK", "TRADE", "FEE"]],
                    "currency": ["type": "string"], "amount": ref("Amount"), "balance_after": ref("Amount"),
                    "reference_id": ["type": "string"], "created_at": nullable("string", ["format": "date-time"]),
                ]),
        ]
    }

    static func orderSchemas() -> JSONObject {
        let price = ref("Decimal")
        let optionalPrice = nullable("string", ["pattern": "^[0-9]+(\\.[0-9]+)?$"])
        let fill = object([
            "trade_id": ref("Id"), "price": price, "quantity": price, "fee": ref("Amount"),
            "fee_currency": ["type": "string"], "liquidity": ["type": "string", "enum": ["maker", "taker"]],
            "timestamp": ref("Timestamp"),
        ])
        return [
            "OrderRequest": object(
                [
                    "symbol": ["type": "string"], "side": ref("Side"),
                    "type": ["type": "string", "enum": ["limit", "market", "stop", "stop_limit"]],
                    "quantity": ref("DecimalInput"),
                    "price": ["$ref": "#/components/schemas/DecimalInput", "description": "limit and stop_limit only"],
                    "stop_price": [
                        "$ref": "#/components/schemas/DecimalInput", "description": "stop and stop_limit only",
                    ],
                    "time_in_force": ["type": "string", "enum": ["gtc", "ioc", "fok"], "default": "gtc"],
                    "post_only": ["type": "boolean", "default": false],
                    "client_order_id": ["type": "string", "minLength": 1, "maxLength": 64],
                ], required: ["symbol", "side", "type", "quantity"]),
            "Fill": fill,
            "Order": object(
                [
                    "order_id": ref("Id"), "client_order_id": nullable("string"), "symbol": ["type": "string"],
                    "side": ref("Side"),
                    "type": ["type": "string", "enum": ["limit", "market", "stop", "stop_limit"]],
                    "price": optionalPrice, "stop_price": optionalPrice, "quantity": price, "filled_quantity": price,
                    "remaining_quantity": price,
                    "average_price": nullable("string", ["description": "Volume-weighted fill price, 8 decimals"]),
                    "status": [
                        "type": "string",
                        "enum": ["new", "partially_filled", "filled", "cancelled", "rejected", "pending_trigger"],
                    ],
                    "time_in_force": ["type": "string", "enum": ["gtc", "ioc", "fok"]],
                    "post_only": ["type": "boolean"],
                    "reject_reason": ["type": "string"], "created_at": ref("Timestamp"), "updated_at": ref("Timestamp"),
                    "fills": array(ref("Fill")),
                ],
                required: [
                    "order_id", "client_order_id", "symbol", "side", "type", "price", "stop_price", "quantity",
                    "filled_quantity", "remaining_quantity", "average_price", "status", "time_in_force", "created_at",
                    "updated_at", "fills",
                ]),
            "AmendRequest": object(
                ["price": ref("DecimalInput"), "quantity": ref("DecimalInput")], required: [],
                description: "At least one of price and quantity"),
            "BatchRequest": object([
                "orders": ["type": "array", "items": ref("OrderRequest"), "minItems": 1, "maxItems": 20]
            ]),
            "BatchResponse": object([
                "results": array(
                    object(
                        [
                            "status": ["type": "integer", "description": "The status a single request would have had"],
                            "order": ref("Order"), "error": ["$ref": "#/components/schemas/Error/properties/error"],
                        ], required: ["status"]))
            ]),
            "UserTrade": object([
                "trade_id": ref("Id"), "order_id": ref("Id"), "symbol": ["type": "string"], "side": ref("Side"),
                "price": price, "quantity": price, "fee": ref("Amount"), "fee_currency": ["type": "string"],
                "liquidity": ["type": "string", "enum": ["maker", "taker"]], "timestamp": ref("Timestamp"),
            ]),
        ]
    }

    static func portfolioSchemas() -> JSONObject {
        let ratio = nullable("number")
        let averagePrice =
            "Weighted average cost of the buys, fees included; coins deposited count as bought at the market's price "
            + "when they were paid in (the last trade, else the middle of the best bid and ask, else 0)"
        return [
            "Position": object([
                "symbol": ["type": "string"], "quantity": ref("Amount"),
                "average_price": nullable("string", ["description": .string(averagePrice)]),
                "market_price": nullable("string"), "market_value": ref("Amount"), "cost_basis": ref("Amount"),
                "unrealized_pnl": ref("Amount"), "realized_pnl": ref("Amount"),
            ]),
            "Portfolio": object([
                "quote_currency": ["type": "string"], "cash": ref("Amount"), "positions": array(ref("Position")),
                "total_value": ref("Amount"), "total_cost": ref("Amount"), "total_pnl": ref("Amount"),
                "roi_pct": ratio,
            ]),
            "Performance": object([
                "total_return_pct": ratio, "realized_pnl": ref("Amount"), "unrealized_pnl": ref("Amount"),
                "max_drawdown_pct": ratio, "sharpe": ratio, "sortino": ratio, "win_rate": ratio,
                "trade_count": ["type": "integer"],
            ]),
        ]
    }
}

extension OpenAPIDocument {
    static func strategySchemas() -> JSONObject {
        let period: JSONValue = ["type": "integer", "minimum": 1, "maximum": 1000]
        let rules = array(ref("Rule"))
        return [
            "StrategyRequest": object(
                [
                    "name": ["type": "string", "minLength": 1, "maxLength": 100],
                    "symbol": ["type": "string", "pattern": "^[A-Z0-9-]{1,20}$"],
                    "rules": ["type": "array", "items": ref("StrategyRule"), "minItems": 1, "maxItems": 20],
                    "cooldown_seconds": ["type": "integer", "minimum": 0, "maximum": 2_592_000, "default": 0],
                ], required: ["name", "symbol", "rules"]),
            "StrategyRule": object([
                "when": ref("Rule"),
                "action": object(["side": ref("Side"), "quantity": ref("DecimalInput")]),
            ]),
            "Rule": [
                "description": "A rule tree, at most 16 levels deep",
                "oneOf": [
                    object(["all": rules]), object(["any": rules]), object(["not": ref("Rule")]),
                    object([
                        "left": ref("Operand"),
                        "op": ["type": "string", "enum": ["<", "<=", ">", ">=", "crosses_above", "crosses_below"]],
                        "right": ref("Operand"),
                    ]),
                ],
            ],
            "Operand": [
                "oneOf": [
                    object(["value": ["type": "number"]]),
                    object(
                        [
                            "indicator": [
                                "type": "string",
                                "enum": ["price", "volume", "sma", "ema", "rsi", "macd", "bollinger"],
                            ],
                            "period": period, "fast": period, "slow": period, "signal": period,
                            "stddev": ["type": "number", "exclusiveMinimum": 0],
                            "field": [
                                "type": "string", "enum": ["macd", "signal", "histogram", "upper", "middle", "lower"],
                                "description": "Required for macd and bollinger, absent otherwise",
                            ],
                            "interval": [
                                "type": "string", "enum": ["1m", "5m", "15m", "1h", "4h", "1d"], "default": "1m",
                            ],
                        ], required: ["indicator"]),
                ]
            ],
            "StrategyValid": object(["valid": ["type": "boolean", "const": true]]),
            "IndicatorRequest": object([
                "name": ["type": "string", "enum": ["sma", "ema", "rsi", "macd", "bollinger"]],
                "params": object(
                    [
                        "period": period, "fast": period, "slow": period, "signal": period,
                        "stddev": ["type": "number", "exclusiveMinimum": 0, "default": 2],
                        "field": [
                            "type": "string", "enum": ["macd", "signal", "histogram", "upper", "middle", "lower"],
                        ],
                    ], required: []),
                "closes": ["type": "array", "items": ["type": ["number", "string"]], "maxItems": 10_000],
            ]),
            "IndicatorValues": object(["values": array(["type": ["number", "null"]])]),
            "Strategy": object([
                "strategy_id": ["type": "string"],
                "status": ["type": "string", "enum": ["active", "paused", "deleted"]],
                "name": ["type": "string"], "symbol": ["type": "string"],
                "rules": array(
                    object(["when": ref("Rule"), "action": object(["side": ref("Side"), "quantity": ref("Decimal")])])),
                "cooldown_seconds": ["type": "integer"], "created_at": ref("Timestamp"),
                "last_fired_at": nullable("string", ["format": "date-time"]), "signal_count": ["type": "integer"],
            ]),
            "Signal": object(
                [
                    "signal_id": ["type": "string"], "strategy_id": ["type": "string"],
                    "rule_index": ["type": "integer"], "side": ref("Side"), "quantity": ref("Decimal"),
                    "candle_close_time": ref("Timestamp"), "fired_at": ref("Timestamp"),
                    "status": ["type": "string", "enum": ["pending", "placed", "refused"]],
                    "order_id": nullable("string"), "client_order_id": ["type": "string"],
                    "reason": nullable("string"), "reason_code": nullable("string"),
                ],
                description: "One firing of a rule at a candle close: pending until its order is placed, then "
                    + "placed (order_id) or refused (reason and reason_code, e.g. INSUFFICIENT_FUNDS)"),
        ]
    }
}
