import Trading

/// What `verify` needs of one book, captured on its actor in one go: the best prices, how many trades
/// it made, and every open order (resting or an untriggered stop) with what remains of it.
struct SymbolAudit: Sendable {
    struct BookOrder: Sendable, Hashable {
        var id: OrderID
        var owner: UserID
        var remaining: Quantity
        var isStop: Bool
    }

    var symbol: String
    var progress: ShardProgress
    var bestBid: Price?
    var bestAsk: Price?
    /// Trades are numbered 1, 2, … per book, so the last id is the number of trades made.
    var lastTradeID: UInt64
    var orders: [BookOrder]
    /// Journal records whose events are not yet delivered to the accounts.
    var undelivered: Int

    init(
        symbol: String, progress: ShardProgress, bestBid: Price?, bestAsk: Price?, lastTradeID: UInt64,
        orders: [BookOrder], undelivered: Int
    ) {
        self.symbol = symbol
        self.progress = progress
        self.bestBid = bestBid
        self.bestAsk = bestAsk
        self.lastTradeID = lastTradeID
        self.orders = orders
        self.undelivered = undelivered
    }

    init(_ state: SymbolState, progress: ShardProgress, undelivered: Int) {
        symbol = state.spec.symbol
        self.progress = progress
        bestBid = state.book.bestBid
        bestAsk = state.book.bestAsk
        lastTradeID = state.marketData.recentTrades.last?.tradeID ?? 0
        orders =
            state.book.restingOrders.map {
                BookOrder(id: $0.id, owner: $0.owner, remaining: $0.remaining, isStop: false)
            }
            + state.book.stopOrders.map { BookOrder(id: $0.id, owner: $0.owner, remaining: $0.quantity, isStop: true) }
        self.undelivered = undelivered
    }
}
