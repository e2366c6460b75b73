import Trading

/// The read models of history and queries — `orders`, `trade_history`, `transactions`, `wallets` and
/// `portfolio_holdings` — written from the account shards' durable state, off the command path (see
/// `ProjectionWriter`), and read by admin tools and tests.
///
/// Every write is a `ProjectionBatch` applied in one transaction, together with the per-shard projection
/// offsets (`projection_offsets`), so the tables are always as of a journal sequence per shard: after a
/// crash, a shard whose offset is behind its journal projects its users again. Writing a batch twice is
/// harmless (upserts of whole rows, inserts-or-ignore of history), and an offset never goes back.
public protocol ReadModelStore: Sendable {
    /// Writes the batch in one transaction: upserts order, wallet and holding rows; inserts trade and
    /// transaction rows whose key is new (a known key is left as it is); raises each shard's offset to the
    /// batch's when it is higher. Duplicate keys in the batch are allowed (the last upsert wins).
    func project(_ batch: ProjectionBatch) async throws

    /// The journal sequence through which `shard`'s rows are written (0 when never projected).
    func projectionOffset(shard: String) async throws -> Int64

    /// The user's orders, newest (highest id) first, at most `limit`: only those on `symbol` when it is given,
    /// only closed ones (not `new`, `partially_filled` or `pending_trigger`) when `closedOnly`.
    func orders(user: UserID, symbol: String?, closedOnly: Bool, limit: Int) async throws -> [OrderRow]

    /// One order, whoever owns it.
    func order(id: OrderID) async throws -> OrderRow?

    /// The user's fills, newest first (by time, then trade id), at most `limit`: only those on `symbol` when it
    /// is given.
    func trades(user: UserID, symbol: String?, limit: Int) async throws -> [TradeRow]

    /// The fills of these orders of the user's, by order and then oldest (lowest trade id) first.
    func trades(user: UserID, orders: [OrderID]) async throws -> [TradeRow]

    /// The user's ledger rows, newest (highest entry id) first, at most `limit`.
    func transactions(user: UserID, limit: Int) async throws -> [TransactionRow]

    /// The user's balances, by currency.
    func wallets(user: UserID) async throws -> [WalletRow]

    /// The user's positions, by symbol.
    func holdings(user: UserID) async throws -> [HoldingRow]
}

extension ReadModelStore {
    /// The user's orders, newest (highest id) first, at most `limit`.
    public func orders(user: UserID, limit: Int) async throws -> [OrderRow] {
        try await orders(user: user, symbol: nil, closedOnly: false, limit: limit)
    }

    /// The user's fills, newest first (by time, then trade id), at most `limit`.
    public func trades(user: UserID, limit: Int) async throws -> [TradeRow] {
        try await trades(user: user, symbol: nil, limit: limit)
    }

    /// The fills of one of the user's orders, oldest (lowest trade id) first.
    public func trades(user: UserID, order: OrderID) async throws -> [TradeRow] {
        try await trades(user: user, orders: [order])
    }
}

/// Identifiers are unsigned in the domain and `bigint` in the databases: stored by bit pattern, so every
/// value round-trips (real ids stay far below 2⁶³).
extension UInt64 {
    var storedBits: Int64 { Int64(bitPattern: self) }

    init(storedBits: Int64) { self.init(bitPattern: storedBits) }
}
