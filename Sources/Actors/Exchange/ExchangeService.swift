import Trading

/// What the API asks of the exchange: one call per client operation, with domain types in and out.
///
/// The API module authenticates, parses decimals against the market's grid, and renders JSON; the
/// implementation (`Exchange`, over `SymbolActor`s and `AccountActor`s) routes to the owning shards.
/// Errors are `BourseError`s whose codes the API maps to HTTP statuses (api.md).
public protocol ExchangeService: Sendable {
    // MARK: Markets (no user)
    func markets() async -> [MarketInfo]
    /// - Throws: `.notFound` for an unknown symbol (likewise below).
    func market(_ symbol: String) async throws -> MarketInfo
    func ticker(symbol: String) async throws -> TickerView
    func orderBook(symbol: String, depth: Int) async throws -> DepthView
    func recentTrades(symbol: String, limit: Int) async throws -> [PublicTrade]
    func candles(symbol: String, interval: CandleInterval, limit: Int) async throws -> [CandleView]

    // MARK: Account
    /// - Parameter idempotencyKey: a retry with the same key returns the first result.
    func deposit(user: UserID, currency: String, amount: Amount, idempotencyKey: String?) async throws
        -> BalanceChange
    /// - Throws: `.insufficientFunds`.
    func withdraw(user: UserID, currency: String, amount: Amount, idempotencyKey: String?) async throws
        -> BalanceChange
    func balances(user: UserID) async throws -> [BalanceView]
    /// Newest first.
    func transactions(user: UserID, limit: Int) async throws -> [TimedEntry]

    // MARK: Orders
    /// Places an order; returns after it is durable. `created` is false when `clientOrderID` was used
    /// before with the same content (the first result is returned).
    /// - Throws: `.conflict` (client order id reused with other content), `.insufficientFunds`,
    ///   `.orderRejected` (post-only would cross, FOK unfillable, halted, no liquidity), `.notFound`.
    func placeOrder(user: UserID, request: OrderRequest) async throws -> (order: OrderView, created: Bool)
    /// - Throws: `.notFound` when it is not the caller's.
    func order(user: UserID, orderID: OrderID) async throws -> OrderView
    /// Newest first.
    func orders(user: UserID, filter: OrderFilter) async throws -> [OrderView]
    /// - Throws: `.notFound`; `.conflict` when already filled or cancelled.
    func cancelOrder(user: UserID, orderID: OrderID) async throws -> OrderView
    func cancelAll(user: UserID, symbol: String?) async throws -> [OrderView]
    /// - Throws: `.validation` (quantity at or below filled), `.insufficientFunds`, `.conflict` (not open).
    func amendOrder(user: UserID, orderID: OrderID, price: Price?, quantity: Quantity?) async throws -> OrderView
    /// The caller's fills, newest first.
    func userTrades(user: UserID, symbol: String?, limit: Int) async throws -> [UserTrade]

    // MARK: Portfolio
    func portfolio(user: UserID) async throws -> PortfolioView
    func performance(user: UserID) async throws -> PerformanceView

    // MARK: Strategies
    /// Creates an active strategy for `user` on `definition.symbol` (validated by the caller).
    /// - Throws: `.notFound` (unknown symbol), `.invalidStrategy`, `.conflict` (the user holds the most
    ///   strategies allowed).
    func createStrategy(user: UserID, definition: StrategyDefinition) async throws -> StrategyView
    /// The caller's strategies on every market, newest first.
    func strategies(user: UserID) async throws -> [StrategyView]
    /// - Throws: `.notFound` unless the strategy is the caller's (likewise below).
    func strategy(user: UserID, strategyID: String) async throws -> StrategyView
    /// Deletes the strategy; returns its last state with status `deleted`.
    func deleteStrategy(user: UserID, strategyID: String) async throws -> StrategyView
    /// Stops evaluating the strategy's rules (pausing a paused strategy changes nothing).
    func pauseStrategy(user: UserID, strategyID: String) async throws -> StrategyView
    func resumeStrategy(user: UserID, strategyID: String) async throws -> StrategyView
    /// The strategy's signals, newest first, each with the order it placed or why it could not.
    func strategySignals(user: UserID, strategyID: String, limit: Int) async throws -> [SignalView]

    // MARK: Streams
    /// Events of the given channels until the returned stream is dropped. `user` is needed for `orders`.
    func subscribe(channels: [StreamChannel], user: UserID?) async throws -> AsyncStream<StreamEvent>

    // MARK: Operations
    /// True once every local shard has recovered and serves.
    func isReady() async -> Bool
}
