extension OpenAPIDocument {
    /// Every operation: path, method (lower case) and description, in api.md's order.
    static func operations() -> [(String, String, JSONValue)] {
        authOperations() + marketOperations() + accountOperations() + orderOperations() + otherOperations()
            + adminOperations() + strategyOperations()
            + backtestOperations()
    }

    static func authOperations() -> [(String, String, JSONValue)] {
        [
            (
                "/v1/auth/register", "post",
                operation(
                    "register", "Create a user", tag: "Auth", body: ref("Credentials"),
                    success: [(201, "Created", ref("RegisteredUser"))], errors: [409])
            ),
            (
                "/v1/auth/login", "post",
                operation(
                    "login", "Log in (rate limited per IP)", tag: "Auth", body: ref("Credentials"),
                    success: [(200, "Tokens", ref("Tokens"))], errors: [401])
            ),
            (
                "/v1/auth/refresh", "post",
                operation(
                    "refresh", "Exchange a refresh token (the old one stops working)", tag: "Auth",
                    body: ref("RefreshRequest"), success: [(200, "Tokens", ref("Tokens"))], errors: [401])
            ),
            (
                "/v1/auth/logout", "post",
                operation(
                    "logout", "Revoke the caller's refresh tokens", tag: "Auth", secured: true,
                    success: [(204, "Logged out", nil)])
            ),
            (
                "/.well-known/jwks.json", "get",
                operation(
                    "jwks", "The RS256 public keys", tag: "Auth", success: [(200, "JWKS", ref("JWKS"))],
                    errors: [503])
            ),
            (
                "/v1/me", "get",
                operation("me", "The caller", tag: "Auth", secured: true, success: [(200, "The user", ref("Me"))])
            ),
        ]
    }

    static func marketOperations() -> [(String, String, JSONValue)] {
        [
            (
                "/v1/markets", "get",
                operation("listMarkets", "Markets", tag: "Markets", success: [(200, "Markets", array(ref("Market")))])
            ),
            (
                "/v1/markets/{symbol}/ticker", "get",
                operation(
                    "getTicker", "24-hour ticker", tag: "Markets", parameters: [symbolParameter],
                    success: [(200, "Ticker", ref("Ticker"))], errors: [404])
            ),
            (
                "/v1/markets/{symbol}/orderbook", "get",
                operation(
                    "getOrderBook", "Aggregated depth", tag: "Markets",
                    parameters: [
                        symbolParameter,
                        queryParameter(
                            "depth", "Price levels per side, 1-1000",
                            schema: ["type": "integer", "minimum": 1, "maximum": 1000, "default": 10]),
                    ], success: [(200, "Order book", ref("OrderBook"))], errors: [404])
            ),
            (
                "/v1/markets/{symbol}/trades", "get",
                operation(
                    "getRecentTrades", "Recent trades, newest first", tag: "Markets",
                    parameters: [symbolParameter, limitParameter(default: 100)],
                    success: [(200, "Trades", array(ref("PublicTrade")))], errors: [404])
            ),
            (
                "/v1/markets/{symbol}/candles", "get",
                operation(
                    "getCandles", "Candles, oldest first", tag: "Markets",
                    parameters: [
                        symbolParameter,
                        queryParameter(
                            "interval", "Candle interval",
                            schema: ["type": "string", "enum": ["1m", "5m", "15m", "1h", "4h", "1d"], "default": "1m"]),
                        limitParameter(default: 500),
                    ], success: [(200, "Candles", array(ref("Candle")))], errors: [404])
            ),
        ]
    }

    static func accountOperations() -> [(String, String, JSONValue)] {
        let idempotencyKey: JSONValue = [
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description":
                "A retry with the same key returns the first result; the same key with another currency or amount is 409",
            "schema": ["type": "string", "minLength": 1, "maxLength": 128],
        ]
        return [
            (
                "/v1/account/deposits", "post",
                operation(
                    "deposit", "Deposit paper money", tag: "Account", secured: true, parameters: [idempotencyKey],
                    body: ref("MoneyRequest"), success: [(201, "Deposited", ref("BalanceChange"))], errors: [409])
            ),
            (
                "/v1/account/withdrawals", "post",
                operation(
                    "withdraw", "Withdraw", tag: "Account", secured: true, parameters: [idempotencyKey],
                    body: ref("MoneyRequest"), success: [(201, "Withdrawn", ref("BalanceChange"))],
                    errors: [409, 422])
            ),
            (
                "/v1/account/balances", "get",
                operation(
                    "getBalances", "Balances of every currency held", tag: "Account", secured: true,
                    success: [(200, "Balances", array(ref("Balance")))])
            ),
            (
                "/v1/account/transactions", "get",
                operation(
                    "getTransactions", "Ledger rows, newest first", tag: "Account", secured: true,
                    parameters: [limitParameter(default: 100)],
                    success: [(200, "Transactions", array(ref("Transaction")))])
            ),
        ]
    }

    static func orderOperations() -> [(String, String, JSONValue)] {
        let symbolFilter = queryParameter(
            "symbol", "Only this market", schema: ["type": "string", "pattern": "^[A-Z0-9-]{1,20}$"])
        return [
            (
                "/v1/orders", "post",
                operation(
                    "placeOrder", "Place an order", tag: "Orders", secured: true, body: ref("OrderRequest"),
                    success: [
                        (201, "Placed", ref("Order")),
                        (200, "Same client_order_id and content: the first result", ref("Order")),
                    ], errors: [404, 409, 422, 503])
            ),
            (
                "/v1/orders", "get",
                operation(
                    "listOrders", "The caller's orders, newest first", tag: "Orders", secured: true,
                    parameters: [
                        queryParameter(
                            "status", "Which orders",
                            schema: ["type": "string", "enum": ["open", "closed", "all"], "default": "all"]),
                        symbolFilter, limitParameter(default: 100),
                    ], success: [(200, "Orders", array(ref("Order")))])
            ),
            (
                "/v1/orders", "delete",
                operation(
                    "cancelAllOrders", "Cancel all open orders (on one symbol or all; an unknown symbol is a 404)",
                    tag: "Orders", secured: true, parameters: [symbolFilter],
                    success: [(200, "Cancelled orders", array(ref("Order")))], errors: [404])
            ),
            (
                "/v1/orders/batch", "post",
                operation(
                    "placeOrders", "Place 1-20 orders, each as if alone", tag: "Orders", secured: true,
                    body: ref("BatchRequest"), success: [(200, "Results in request order", ref("BatchResponse"))])
            ),
            (
                "/v1/orders/{order_id}", "get",
                operation(
                    "getOrder", "One of the caller's orders", tag: "Orders", secured: true,
                    parameters: [orderIDParameter], success: [(200, "Order", ref("Order"))], errors: [404])
            ),
            (
                "/v1/orders/{order_id}", "delete",
                operation(
                    "cancelOrder", "Cancel an order", tag: "Orders", secured: true, parameters: [orderIDParameter],
                    success: [(200, "Cancelled", ref("Order"))], errors: [404, 409])
            ),
            (
                "/v1/orders/{order_id}", "patch",
                operation(
                    "amendOrder", "Amend a resting order's price or quantity", tag: "Orders", secured: true,
                    parameters: [orderIDParameter], body: ref("AmendRequest"),
                    success: [(200, "Amended", ref("Order"))],
                    errors: [404, 409, 422])
            ),
            (
                "/v1/trades", "get",
                operation(
                    "listFills", "The caller's fills, newest first", tag: "Orders", secured: true,
                    parameters: [symbolFilter, limitParameter(default: 100)],
                    success: [(200, "Fills", array(ref("UserTrade")))])
            ),
        ]
    }

    static func otherOperations() -> [(String, String, JSONValue)] {
        [
            (
                "/v1/portfolio", "get",
                operation(
                    "getPortfolio", "Holdings and P&L", tag: "Portfolio", secured: true,
                    success: [(200, "Portfolio", ref("Portfolio"))])
            ),
            (
                "/v1/portfolio/performance", "get",
                operation(
                    "getPerformance", "Statistics from daily equity", tag: "Portfolio", secured: true,
                    success: [(200, "Performance", ref("Performance"))])
            ),
            (
                "/v1/stream", "get",
                operation(
                    "stream",
                    "Server-sent events: each `data:` line is a StreamEvent; a `: heartbeat` comment every 15 s. "
                        + "The orders channel needs the bearer token.",
                    tag: "Streams",
                    parameters: [
                        [
                            "name": "channels", "in": "query", "required": true,
                            "description": "Comma-separated: ticker:SYMBOL, orderbook:SYMBOL, trades:SYMBOL, orders",
                            "schema": ["type": "string", "minLength": 1],
                        ]
                    ], success: [(200, "Event stream", ["type": "string", "description": "text/event-stream"])],
                    errors: [401, 404], contentType: "text/event-stream")
            ),
            (
                "/healthz", "get",
                operation("healthz", "Alive", tag: "Operations", success: [(200, "Alive", ref("Status"))])
            ),
            (
                "/readyz", "get",
                operation(
                    "readyz", "This node's shards recovered and serving", tag: "Operations",
                    success: [(200, "Ready", ref("Status"))], errors: [503])
            ),
            (
                "/metrics", "get",
                operation(
                    "metrics", "Prometheus metrics", tag: "Operations", success: [(200, "Metrics", ["type": "string"])],
                    contentType: "text/plain")
            ),
            (
                "/openapi.json", "get",
                operation(
                    "openapi", "This document", tag: "Operations", success: [(200, "OpenAPI 3.1", ["type": "object"])])
            ),
        ]
    }
}

extension OpenAPIDocument {
    static func strategyOperations() -> [(String, String, JSONValue)] {
        [
            (
                "/v1/strategies/validate", "post",
                operation(
                    "validateStrategy",
                    "Check a strategy without creating it. Every problem is listed in error.details as {path, "
                        + "message}, the path naming the member, e.g. rules[0].when.all[1].left.period. A request "
                        + "not shaped like a strategy (missing or mistyped member, unknown side, quantity off the "
                        + "lot grid) is a 400 VALIDATION_ERROR; impossible or meaningless rules (RSI compared "
                        + "outside 0-100, period outside 1-1000, fast >= slow, empty all/any, a value compared "
                        + "with a value, nesting over 16 levels, unknown indicator, operator, field or interval, "
                        + "a rule count outside 1-20) are a 422 INVALID_STRATEGY; an unknown symbol is a 404.",
                    tag: "Strategies", secured: true, body: ref("StrategyRequest"),
                    success: [(200, "Valid", ref("StrategyValid"))], errors: [404, 422])
            ),
            (
                "/v1/indicators", "post",
                operation(
                    "computeIndicator",
                    "An indicator over a series of closes, null until it is defined (the same code as rules "
                        + "use). params: sma, ema, rsi {period}; macd {fast, slow, signal, field?} (field "
                        + "macd, signal or histogram; default macd); bollinger {period, stddev?, field?} (stddev "
                        + "default 2; field upper, middle or lower, default middle). At most 10000 closes.",
                    tag: "Strategies", secured: true, body: ref("IndicatorRequest"),
                    success: [(200, "One value per close", ref("IndicatorValues"))])
            ),
        ] + strategyCRUDOperations()
    }

    static let strategyIDParameter = pathParameter(
        "strategy_id", "Strategy id, st_<symbol>_<n>", pattern: "^st_[A-Z0-9-]{1,20}_[1-9][0-9]{0,19}$")

    /// The caller's strategies: each lives in its market and is evaluated at every candle close there.
    static func strategyCRUDOperations() -> [(String, String, JSONValue)] {
        let one: [(Int, String, JSONValue?)] = [(200, "The strategy", ref("Strategy"))]
        return [
            (
                "/v1/strategies", "post",
                operation(
                    "createStrategy",
                    "Create an active strategy. Validated as by POST /v1/strategies/validate (400 or 422 with "
                        + "error.details; unknown symbol 404). At every candle close of its market (seen at the "
                        + "first trade of the next candle) each active strategy out of cooldown fires its first "
                        + "rule that holds: a market order for the owner, reservation first (a sell needs "
                        + "holdings). A user holds at most 50 strategies (409 CONFLICT beyond).",
                    tag: "Strategies", secured: true, body: ref("StrategyRequest"),
                    success: [(201, "Created", ref("Strategy"))], errors: [404, 409, 422])
            ),
            (
                "/v1/strategies", "get",
                operation(
                    "listStrategies", "The caller's strategies, newest first", tag: "Strategies", secured: true,
                    success: [(200, "Strategies", array(ref("Strategy")))])
            ),
            (
                "/v1/strategies/{strategy_id}", "get",
                operation(
                    "getStrategy", "A strategy (404 if it is not the caller's)", tag: "Strategies", secured: true,
                    parameters: [strategyIDParameter], success: one, errors: [404])
            ),
            (
                "/v1/strategies/{strategy_id}", "delete",
                operation(
                    "deleteStrategy", "Delete a strategy; answers its last state with status deleted",
                    tag: "Strategies", secured: true, parameters: [strategyIDParameter], success: one, errors: [404])
            ),
            (
                "/v1/strategies/{strategy_id}/pause", "post",
                operation(
                    "pauseStrategy", "Stop evaluating the strategy (again: no change)", tag: "Strategies",
                    secured: true, parameters: [strategyIDParameter], success: one, errors: [404])
            ),
            (
                "/v1/strategies/{strategy_id}/resume", "post",
                operation(
                    "resumeStrategy", "Evaluate the strategy again from the next close (again: no change)",
                    tag: "Strategies", secured: true, parameters: [strategyIDParameter], success: one, errors: [404])
            ),
            (
                "/v1/strategies/{strategy_id}/signals", "get",
                operation(
                    "getStrategySignals",
                    "The strategy's signals, newest first (the latest 500 are kept), each with the order it "
                        + "placed or why it could not",
                    tag: "Strategies", secured: true,
                    parameters: [
                        strategyIDParameter,
                        queryParameter(
                            "limit", "Number of signals, 1-500",
                            schema: ["type": "integer", "minimum": 1, "maximum": 500, "default": 100]),
                    ],
                    success: [(200, "Signals", array(ref("Signal")))], errors: [404])
            ),
        ]
    }
}
