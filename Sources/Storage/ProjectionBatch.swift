import Trading

/// What one or more account shards changed, as rows of the read models, and how far through each shard's
/// journal those rows reflect its state.
///
/// A batch is written whole in one transaction (`ReadModelStore.project`): order, wallet and holding rows
/// are upserts (the row is the whole current value, so writing it again is harmless), trade and transaction
/// rows are inserted once by key, and `offsets` records, per shard, the journal sequence the rows are as of.
/// Batches of several shards can be appended into one: later rows replace earlier ones with the same key.
public struct ProjectionBatch: Sendable, Hashable {
    /// Per shard (`accounts/0417`), the durable journal sequence these rows reflect.
    public var offsets: [String: Int64]
    /// Per shard, the lease epoch its rows were made under: the store writes the batch only while every one
    /// of them is still the shard's epoch (a deposed owner cannot overwrite its successor's rows).
    public var epochs: [String: Int64] = [:]
    public var orders: [OrderRow]
    public var trades: [TradeRow]
    public var transactions: [TransactionRow]
    public var wallets: [WalletRow]
    public var holdings: [HoldingRow]

    public init(
        offsets: [String: Int64] = [:], orders: [OrderRow] = [], trades: [TradeRow] = [],
        transactions: [TransactionRow] = [], wallets: [WalletRow] = [], holdings: [HoldingRow] = []
    ) {
        self.offsets = offsets
        self.orders = orders
        self.trades = trades
        self.transactions = transactions
        self.wallets = wallets
        self.holdings = holdings
    }

    /// A batch of one shard's rows as of `sequence`.
    public init(
        shard: String, sequence: Int64, orders: [OrderRow] = [], trades: [TradeRow] = [],
        transactions: [TransactionRow] = [], wallets: [WalletRow] = [], holdings: [HoldingRow] = []
    ) {
        self.init(
            offsets: [shard: sequence], orders: orders, trades: trades, transactions: transactions, wallets: wallets,
            holdings: holdings)
    }

    /// Rows of all kinds.
    public var rowCount: Int { orders.count + trades.count + transactions.count + wallets.count + holdings.count }

    /// No rows and no offsets: nothing to write.
    public var isEmpty: Bool { offsets.isEmpty && rowCount == 0 }

    /// Adds `later`'s rows after these (on an upsert key, `later`'s row wins once coalesced) and keeps the
    /// higher offset of each shard.
    public mutating func append(_ later: ProjectionBatch) {
        offsets.merge(later.offsets, uniquingKeysWith: max)
        epochs.merge(later.epochs, uniquingKeysWith: max)
        orders.append(contentsOf: later.orders)
        trades.append(contentsOf: later.trades)
        transactions.append(contentsOf: later.transactions)
        wallets.append(contentsOf: later.wallets)
        holdings.append(contentsOf: later.holdings)
    }

    /// The same batch with at most one row per key: the last row of each upsert key (the newest value) and
    /// the first of each insert key (an insert is never changed). Rows keep the order of their kept copy.
    /// The stores write coalesced batches, as one statement may not upsert a key twice.
    public func coalesced() -> ProjectionBatch {
        var batch = ProjectionBatch(
            offsets: offsets,
            orders: Self.keepingLast(orders, key: \.orderID),
            trades: Self.keepingFirst(
                trades, key: { TradeKey(symbol: $0.symbol, tradeID: $0.tradeID, orderID: $0.orderID) }),
            transactions: Self.keepingFirst(transactions, key: { EntryKey(userID: $0.userID, entryID: $0.entryID) }),
            wallets: Self.keepingLast(wallets, key: { UserKey(userID: $0.userID, name: $0.currency) }),
            holdings: Self.keepingLast(holdings, key: { UserKey(userID: $0.userID, name: $0.symbol) }))
        batch.epochs = epochs
        return batch
    }

    private struct TradeKey: Hashable {
        var symbol: String
        var tradeID: UInt64
        var orderID: OrderID
    }

    private struct EntryKey: Hashable {
        var userID: UserID
        var entryID: UInt64
    }

    private struct UserKey: Hashable {
        var userID: UserID
        var name: String
    }

    private static func keepingLast<Row, Key: Hashable>(_ rows: [Row], key: (Row) -> Key) -> [Row] {
        guard rows.count > 1 else { return rows }
        var last: [Key: Int] = [:]
        last.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() { last[key(row)] = index }
        guard last.count < rows.count else { return rows }
        return rows.indices.filter { last[key(rows[$0])] == $0 }.map { rows[$0] }
    }

    private static func keepingFirst<Row, Key: Hashable>(_ rows: [Row], key: (Row) -> Key) -> [Row] {
        guard rows.count > 1 else { return rows }
        var seen = Set<Key>(minimumCapacity: rows.count)
        return rows.filter { seen.insert(key($0)).inserted }
    }
}
