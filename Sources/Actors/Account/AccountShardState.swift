import Trading

/// Everything an account shard holds, as a pure, deterministic state machine: the users hashed to it
/// (activated on first use), their orders, and per symbol the last book event applied (so redelivered
/// events are skipped). Commands validate first and change nothing when they throw.
public struct AccountShardState: Sendable {
    public enum Command: Sendable, Hashable {
        /// `valuation`: the market whose position a deposit of its base asset joins and its last price then,
        /// as the node that took the deposit found them (journaled, so a replay values it the same).
        case deposit(user: UserID, currency: String, amount: Amount, key: String?, valuation: DepositValuation? = nil)
        case withdraw(user: UserID, currency: String, amount: Amount, key: String?)
        /// Reserve and record a new order; the id is the shard's next.
        case place(user: UserID, request: OrderRequest, protection: Price?)
        /// Widen the reservation to cover an amend before the book sees it.
        case amend(user: UserID, orderID: OrderID, price: Price?, quantity: Quantity?)
        /// Events of `symbol`'s book concerning this shard's orders, in book order.
        case bookEvents(symbol: String, events: [BookEvent])
        /// The order never reached the book (halted market, or the book's journal failed).
        case abandon(orderID: OrderID, reason: RejectReason)
    }

    /// The market a deposit of its base asset is valued in, and the price: per whole unit in its quote
    /// currency (zero when the market had no last price).
    public struct DepositValuation: Sendable, Hashable {
        public var symbol: String
        public var price: Amount

        public init(symbol: String, price: Amount) {
            self.symbol = symbol
            self.price = price
        }
    }

    public struct Record: Sendable, Hashable {
        public var timestampMillis: Int64
        public var command: Command
        public init(timestampMillis: Int64, command: Command) {
            self.timestampMillis = timestampMillis
            self.command = command
        }
    }

    public enum Outcome: Sendable {
        case balance(BalanceChange)
        /// A new order, and the shard's `settledThrough` watermark to send with it to its book.
        case order(NewOrder, settledThrough: OrderID)
        case none
    }

    public let index: Int
    /// The markets whose orders this shard reserves and settles (markets added at run time join it).
    public internal(set) var markets: [String: MarketSpec]
    /// The active users (see `AccountShardState+Passivation`: anything reading a user activates it first).
    public internal(set) var users: [UserID: UserAccount] = [:]
    /// Passivated users, as the bytes of their part of a snapshot.
    public internal(set) var passive: [UserID: [UInt8]] = [:]
    /// Users activated since the last passivation sweep.
    var recentlyUsed: Set<UserID> = []
    public internal(set) var orderOwners: [OrderID: UserID] = [:]
    public internal(set) var orderCounter: UInt64 = 0
    public internal(set) var lastBookSequence: [String: UInt64] = [:]
    /// Orders no book has answered yet (not journaled: rebuilt from the orders on restore).
    var unanswered = UnansweredOrders()
    /// Book events that could not be applied (should stay 0; a non-zero value is a bug to investigate).
    public internal(set) var anomalies = 0

    public init(index: Int, markets: [String: MarketSpec]) {
        self.index = index
        self.markets = markets
    }

    /// Every order id of this shard at or below this is answered by its book or given up (see
    /// `UnansweredOrders`): a book may forget which of them it placed.
    public var settledThrough: OrderID {
        unanswered.settledThrough(latest: OrderIDs.make(shard: index, counter: orderCounter))
    }

    /// The user's account if it is active (`activate` it first to include passivated users).
    public func account(_ user: UserID) -> UserAccount? { users[user] }

    /// Applies a command; throws (changing nothing) when it is refused.
    public mutating func apply(_ record: Record) throws(BourseError) -> Outcome {
        let now = record.timestampMillis
        activate(for: record.command)
        switch record.command {
        case .deposit(let user, let currency, let amount, let key, let valuation):
            return .balance(
                try moveMoney(
                    user: user, currency: currency, amount: amount, key: key, deposit: true,
                    valuation: valuation.flatMap(ledgerValuation), now: now))
        case .withdraw(let user, let currency, let amount, let key):
            return .balance(
                try moveMoney(
                    user: user, currency: currency, amount: amount, key: key, deposit: false, valuation: nil, now: now))
        case .place(let user, let request, let protection):
            let order = try place(user: user, request: request, protection: protection, now: now)
            return .order(order, settledThrough: settledThrough)
        case .amend(let user, let orderID, let price, let quantity):
            try prepareAmend(user: user, orderID: orderID, price: price, quantity: quantity, now: now)
            return .none
        case .bookEvents(let symbol, let events):
            applyBookEvents(symbol: symbol, events: events, now: now)
            return .none
        case .abandon(let orderID, let reason):
            close(orderID, status: .rejected, reason: reason, now: now)
            return .none
        }
    }

    private mutating func moveMoney(
        user: UserID, currency: String, amount: Amount, key: String?, deposit: Bool,
        valuation: AccountLedger.Valuation?, now: Int64
    )
        throws(BourseError) -> BalanceChange
    {
        let scopedKey = key.map { (deposit ? "deposit:" : "withdraw:") + $0 }
        if let scopedKey, let first = users[user]?.idempotentResults[scopedKey] {
            // A retry asks for the same thing; the same key with other content is a client's mistake, not a retry.
            guard first.balance.currency == currency, first.amount.map({ $0 == amount }) ?? true else {
                throw BourseError(
                    .conflict,
                    "Idempotency-Key already used for a \(deposit ? "deposit" : "withdrawal") of other content")
            }
            return first
        }
        guard MarketSpec.isValidCurrency(currency) else { throw .validation("currency must be 1-10 of [A-Z0-9]") }
        return try withAccount(user) { (account: inout UserAccount) throws(BourseError) -> BalanceChange in
            let reference = scopedKey ?? "\(deposit ? "deposit" : "withdrawal")-\(account.ledger.nextEntryID)"
            let entry =
                deposit
                ? try account.ledger.deposit(
                    currency: currency, amount: amount, reference: reference, valuation: valuation)
                : try account.ledger.withdraw(currency: currency, amount: amount, reference: reference)
            let balance = account.ledger.balance(currency)
            let change = BalanceChange(
                transactionID: String(entry.id),
                balance: BalanceView(currency: currency, available: balance.available, locked: balance.locked),
                amount: amount)
            if let scopedKey { account.remember(change, key: scopedKey) }
            account.drainLedgerEntries(now: now)
            return change
        }
    }

    /// A deposit's valuation in one of this shard's markets (none for a market it does not know).
    private func ledgerValuation(_ valuation: DepositValuation) -> AccountLedger.Valuation? {
        markets[valuation.symbol].map { AccountLedger.Valuation(market: $0, price: valuation.price) }
    }

    private mutating func place(user: UserID, request: OrderRequest, protection: Price?, now: Int64)
        throws(BourseError) -> NewOrder
    {
        guard let spec = markets[request.symbol] else { throw BourseError(.notFound, "unknown symbol") }
        if let client = request.clientOrderID, let existing = users[user]?.clientOrderIDs[client],
            let record = users[user]?.orders[existing]
        {
            // Never hand the order out again: booking it twice would trade without a reservation. A retry
            // that raced the first request here is answered by `Exchange.placeOrder` as a retry.
            throw BourseError(
                .conflict,
                record.request == request
                    ? "client_order_id is in use by an order being placed"
                    : "client_order_id was used for another order")
        }
        let id = OrderIDs.make(shard: index, counter: orderCounter + 1)
        // Market and stop buys trade no higher than the protection price their reservation covers.
        var bookPrice = request.price
        if request.type == .market || request.type == .stop { bookPrice = request.side == .buy ? protection : nil }
        let order = NewOrder(
            id: id, owner: user, side: request.side, type: request.type, price: bookPrice,
            stopPrice: request.stopPrice, quantity: request.quantity, timeInForce: request.timeInForce,
            postOnly: request.postOnly)
        let view = OrderView(
            orderID: id, clientOrderID: request.clientOrderID, symbol: spec.symbol, side: request.side,
            type: request.type, price: request.type == .market || request.type == .stop ? nil : request.price,
            stopPrice: request.stopPrice, quantity: request.quantity, filledQuantity: .zero, filledNotional: .zero,
            status: request.type == .stop || request.type == .stopLimit ? .pendingTrigger : .new,
            timeInForce: request.timeInForce, postOnly: request.postOnly, rejectReason: nil, createdAtMillis: now,
            updatedAtMillis: now, fills: [])
        try withAccount(user) { (account: inout UserAccount) throws(BourseError) in
            try account.ledger.reserve(order: order, spec: spec, protectionPrice: protection)
            account.add(OrderRecord(view: view, owner: user, request: request))
            account.drainLedgerEntries(now: now)
        }
        orderCounter += 1
        orderOwners[id] = user
        unanswered.add(id)
        return order
    }

    /// Holds enough for both the current and the amended order until the book answers.
    private mutating func prepareAmend(user: UserID, orderID: OrderID, price: Price?, quantity: Quantity?, now: Int64)
        throws(BourseError)
    {
        guard let record = users[user]?.orders[orderID] else {
            throw BourseError(.notFound, "order not found")
        }
        guard record.view.status == .new || record.view.status == .partiallyFilled, record.view.type == .limit else {
            throw BourseError(.conflict, "only an open limit order can be amended")
        }
        guard !record.pendingAmend else { throw BourseError(.conflict, "an amend of this order is in progress") }
        let filled = record.view.filledQuantity.lots
        let newQuantity = quantity?.lots ?? record.view.quantity.lots
        guard newQuantity > filled else {
            throw .validation("quantity must be greater than the filled quantity")
        }
        let currentRemaining = record.view.quantity.lots - filled
        let newRemaining = newQuantity - filled
        var coverPrice = record.view.price
        if let price, let current = coverPrice, record.view.side == .buy { coverPrice = max(price, current) }
        try withAccount(user) { (account: inout UserAccount) throws(BourseError) in
            try account.ledger.adjustReservation(
                symbol: record.view.symbol, orderID: orderID, newPrice: coverPrice,
                newRemainingQuantity: Quantity(lots: max(currentRemaining, newRemaining)))
            account.orders[orderID]?.pendingAmend = true
            account.orders[orderID]?.view.updatedAtMillis = now
            account.drainLedgerEntries(now: now)
        }
    }

    /// Runs `body` on `user`'s account where it is stored, so that the account's history (orders, rows,
    /// fills) stays uniquely referenced and is never copied: copying the account out of `users` and
    /// writing it back made every command copy-on-write the whole history, O(history) per command. A user
    /// seen for the first time is stored only if `body` succeeds. `body` must change nothing when it
    /// throws (the ledger's operations validate before they change anything).
    mutating func withAccount<Result, Failure: Error>(
        _ user: UserID, _ body: (inout UserAccount) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        activate(user)  // never mistake a passivated user for a new one
        guard users[user] != nil else {
            var account = UserAccount(user: user)
            let result = try body(&account)
            users[user] = account
            return result
        }
        return try body(&users[user]!)
    }
}
