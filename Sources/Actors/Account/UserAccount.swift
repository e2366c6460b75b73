import Trading

/// One user's state inside an account shard: the ledger (money), the orders and their fills, and
/// the maps that make retries idempotent.
public struct UserAccount: Sendable {
    /// History kept in memory per user; older closed orders, rows and fills are dropped from memory.
    public static let historyCapacity = 5_000
    /// A closed order stays in memory for at least this long after its last change (up to three times the
    /// capacity).
    public static let trimGraceMillis: Int64 = 60_000
    /// `Idempotency-Key` results kept per user: a retry gets the first result while its key is among the user's
    /// last 10,000–20,000 keyed deposits and withdrawals.
    public static let idempotencyCapacity = 10_000

    public var ledger: AccountLedger
    public internal(set) var orders: [OrderID: OrderRecord] = [:]
    /// Order ids, oldest first.
    public internal(set) var orderIDs: [OrderID] = []
    public internal(set) var clientOrderIDs: [String: OrderID] = [:]
    public internal(set) var idempotentResults: [String: BalanceChange] = [:]
    /// Transaction rows with the time of the command that made them; newest last.
    public internal(set) var entries: [TimedEntry] = []
    /// Newest last.
    public internal(set) var trades: [UserTrade] = []
    /// End-of-day balances and holdings of every day they changed (performance statistics).
    public internal(set) var daily = DailySeries()
    /// The newest order dropped from `orders` (trimmed), 0 if none, `UInt64.max` if not known (restored from a
    /// snapshot of a long history): a list that reaches below it reads the read models too.
    public internal(set) var ordersTrimmedThrough: OrderID = 0
    /// Fills may have been dropped from `trades`.
    public internal(set) var tradesTrimmed = false

    public init(user: UserID) { ledger = AccountLedger(userID: user) }

    /// Moves the ledger's new rows into the history and records the day's balances.
    ///
    /// - Parameter sellRealized: the P&L realized by the sell fill just settled, if any.
    mutating func drainLedgerEntries(now: Int64, sellRealized: Amount? = nil) {
        let rows = ledger.drainEntries()
        daily.record(ledger, rows: rows, sellRealized: sellRealized, atMillis: now)
        entries.append(contentsOf: rows.map { TimedEntry(entry: $0, timestampMillis: now) })
        if entries.count > UserAccount.historyCapacity * 2 {
            entries.removeFirst(entries.count - UserAccount.historyCapacity)
        }
    }

    /// Remembers the result of a keyed deposit or withdrawal; past twice the capacity, the oldest results
    /// (lowest transaction id: ids grow with every row of the ledger) are forgotten.
    mutating func remember(_ change: BalanceChange, key: String) {
        idempotentResults[key] = change
        guard idempotentResults.count > 2 * Self.idempotencyCapacity else { return }
        let oldestFirst = idempotentResults.sorted {
            (UInt64($0.value.transactionID) ?? 0, $0.key) < (UInt64($1.value.transactionID) ?? 0, $1.key)
        }
        for (key, _) in oldestFirst.prefix(idempotentResults.count - Self.idempotencyCapacity) {
            idempotentResults[key] = nil
        }
    }

    /// Adds an order as a snapshot held it: no trimming (the snapshot holds what the history held).
    mutating func restore(_ order: OrderRecord) {
        orders[order.view.orderID] = order
        orderIDs.append(order.view.orderID)
        if let client = order.view.clientOrderID { clientOrderIDs[client] = order.view.orderID }
    }

    mutating func add(_ order: OrderRecord) {
        restore(order)
        // Past twice the capacity: trim, and while recent closings keep it there, try again every 256 orders;
        // past three times the capacity, trim whatever is closed.
        let over = orderIDs.count - UserAccount.historyCapacity * 2
        if over > 0, over % 256 == 1 || orderIDs.count > UserAccount.historyCapacity * 3 {
            trimOrders(
                nowMillis: order.view.createdAtMillis,
                ignoringGrace: orderIDs.count > UserAccount.historyCapacity * 3)
        }
    }

    mutating func record(_ trade: UserTrade) {
        trades.append(trade)
        if trades.count > UserAccount.historyCapacity * 2 {
            trades.removeFirst(trades.count - UserAccount.historyCapacity)
            tradesTrimmed = true
        }
    }

    /// Drops the oldest closed orders beyond the capacity, except those that changed in the last
    /// `trimGraceMillis` (unless `ignoringGrace`).
    ///
    /// The grace keeps an order that just closed in memory: a cancel reads the order back once the book has
    /// cancelled it, and an old resting order is among the first to go once it is closed; and the read models,
    /// written off the hot path, may not hold its last state yet.
    private mutating func trimOrders(nowMillis: Int64, ignoringGrace: Bool) {
        let changedBefore = ignoringGrace ? Int64.max : nowMillis - UserAccount.trimGraceMillis
        var excess = orderIDs.count - UserAccount.historyCapacity
        var kept: [OrderID] = []
        kept.reserveCapacity(orderIDs.count)
        for id in orderIDs {
            if excess > 0, let order = orders[id], !order.view.status.isOpen,
                order.view.updatedAtMillis < changedBefore
            {
                orders[id] = nil
                ordersTrimmedThrough = max(ordersTrimmedThrough, id)
                if let client = order.view.clientOrderID { clientOrderIDs[client] = nil }
                excess -= 1
            } else {
                kept.append(id)
            }
        }
        orderIDs = kept
    }
}

/// An order as its owner's account shard tracks it.
public struct OrderRecord: Sendable, Hashable {
    public var view: OrderView
    public var owner: UserID
    /// The book has answered for this order at least once (accepted or rejected).
    public var acknowledged = false
    /// Triggered stop waiting for its entry events.
    public var triggered = false
    /// An amend sent to the book and not yet answered: the reservation covers both versions.
    public var pendingAmend = false
    /// The exact request content, to compare a reused client_order_id.
    public var request: OrderRequest

    public init(view: OrderView, owner: UserID, request: OrderRequest) {
        self.view = view
        self.owner = owner
        self.request = request
    }
}

/// A ledger row and when it was written.
public struct TimedEntry: Sendable, Hashable {
    public var entry: LedgerEntry
    public var timestampMillis: Int64
    public init(entry: LedgerEntry, timestampMillis: Int64) {
        self.entry = entry
        self.timestampMillis = timestampMillis
    }
}
