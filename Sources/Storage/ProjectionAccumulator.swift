import Trading

/// The pending rows of one shard in `ProjectionWriter`: upserted rows by key (a newer row replaces the
/// older one, so the backlog of a writer that falls behind grows with the number of distinct orders,
/// balances and positions, not with the number of batches), history rows in arrival order, and the highest
/// offset seen.
struct ProjectionAccumulator: Sendable {
    private struct UserKey: Hashable {
        var userID: UserID
        var name: String
    }

    private var offsets: [String: Int64] = [:]
    private var epochs: [String: Int64] = [:]
    private var orders: [OrderID: OrderRow] = [:]
    private var wallets: [UserKey: WalletRow] = [:]
    private var holdings: [UserKey: HoldingRow] = [:]
    private var trades: [TradeRow] = []
    private var transactions: [TransactionRow] = []

    /// Rows held.
    var rowCount: Int { orders.count + wallets.count + holdings.count + trades.count + transactions.count }

    /// Adds a later batch: its upserted rows replace these with the same key.
    mutating func add(_ batch: ProjectionBatch) {
        offsets.merge(batch.offsets, uniquingKeysWith: max)
        epochs.merge(batch.epochs, uniquingKeysWith: max)
        for row in batch.orders { orders[row.orderID] = row }
        for row in batch.wallets { wallets[UserKey(userID: row.userID, name: row.currency)] = row }
        for row in batch.holdings { holdings[UserKey(userID: row.userID, name: row.symbol)] = row }
        trades.append(contentsOf: batch.trades)
        transactions.append(contentsOf: batch.transactions)
    }

    /// Adds a later accumulator: its upserted rows replace these with the same key.
    mutating func add(_ later: ProjectionAccumulator) {
        offsets.merge(later.offsets, uniquingKeysWith: max)
        epochs.merge(later.epochs, uniquingKeysWith: max)
        orders.merge(later.orders) { _, newer in newer }
        wallets.merge(later.wallets) { _, newer in newer }
        holdings.merge(later.holdings) { _, newer in newer }
        trades.append(contentsOf: later.trades)
        transactions.append(contentsOf: later.transactions)
    }

    /// The rows as one batch, each upsert key once.
    func batch() -> ProjectionBatch {
        var batch = ProjectionBatch(
            offsets: offsets, orders: Array(orders.values), trades: trades, transactions: transactions,
            wallets: Array(wallets.values), holdings: Array(holdings.values))
        batch.epochs = epochs
        return batch
    }
}
