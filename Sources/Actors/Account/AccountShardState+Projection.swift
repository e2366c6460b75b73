import Storage
import Trading

/// The read-model rows of an account shard, as pure functions of its state.
///
/// Incremental: `projectionMarks(for:)` before a command notes which users and orders it can touch and
/// where their history stood; `projection(since:outcome:)` after it gives the rows the command changed —
/// the touched orders, the users' new ledger rows and fills, and their balances and positions. Full:
/// `projection(of:)` gives every row of some users (re-projection after a restart). Rows carry no offset;
/// the actor adds the journal sequence they are as of.
extension AccountShardState {
    /// Where one user's history stood before a command.
    public struct UserMark: Sendable, Hashable {
        /// The id the user's next ledger row gets: rows from it on are new.
        public var nextEntryID: UInt64
        /// Fills settled so far: one `UserTrade` is recorded per settled fill.
        public var fillCount: Int
    }

    /// What a command can change, noted before it is applied.
    public struct ProjectionMarks: Sendable, Hashable {
        public var users: [UserID: UserMark] = [:]
        public var orders: Set<OrderID> = []
    }

    /// The users and orders `command` can touch and where their history stands now.
    public func projectionMarks(for command: Command) -> ProjectionMarks {
        var marks = ProjectionMarks()
        func touch(user: UserID) {
            guard marks.users[user] == nil else { return }
            let ledger = users[user]?.ledger
            marks.users[user] = UserMark(
                nextEntryID: ledger?.nextEntryID ?? 1, fillCount: ledger?.appliedFillCount ?? 0)
        }
        func touch(order id: OrderID) {
            guard OrderIDs.shard(of: id) == index, let owner = orderOwners[id] else { return }
            marks.orders.insert(id)
            touch(user: owner)
        }
        command.forEachSubject(user: { touch(user: $0) }, order: { touch(order: $0) })
        return marks
    }

    /// The rows a command changed: `marks` were taken before it, `outcome` is what it returned.
    public func projection(since marks: ProjectionMarks, outcome: Outcome) -> ProjectionBatch {
        var orderIDs = marks.orders
        if case .order(let order, _) = outcome { orderIDs.insert(order.id) }
        var batch = ProjectionBatch()
        for id in orderIDs.sorted() {
            guard let owner = orderOwners[id], let record = users[owner]?.orders[id] else { continue }
            batch.orders.append(Self.orderRow(record))
        }
        for (user, mark) in marks.users.sorted(by: { $0.key < $1.key }) {
            guard let account = users[user] else { continue }
            let newEntries = account.entries.reversed().prefix { $0.entry.id >= mark.nextEntryID }
            batch.transactions.append(contentsOf: newEntries.reversed().map { Self.transactionRow($0, user: user) })
            let newFills = max(0, account.ledger.appliedFillCount - mark.fillCount)
            batch.trades.append(contentsOf: account.trades.suffix(newFills).map { Self.tradeRow($0, user: user) })
            Self.appendBalances(of: account, to: &batch)
        }
        return batch
    }

    /// Every row of `users` (active or passivated) that the shard holds in memory: their orders, ledger rows, fills, balances and
    /// positions.
    public func projection(of users: some Sequence<UserID>) -> ProjectionBatch {
        var batch = ProjectionBatch()
        for user in users.sorted() {
            guard let account = self.users[user] ?? passive[user].map({ Self.decodePassive(user, $0) }) else {
                continue
            }
            batch.orders.append(contentsOf: account.orderIDs.compactMap { account.orders[$0].map(Self.orderRow) })
            batch.transactions.append(contentsOf: account.entries.map { Self.transactionRow($0, user: user) })
            batch.trades.append(contentsOf: account.trades.map { Self.tradeRow($0, user: user) })
            Self.appendBalances(of: account, to: &batch)
        }
        return batch
    }

    // MARK: Rows

    static func orderRow(_ record: OrderRecord) -> OrderRow {
        let view = record.view
        return OrderRow(
            orderID: view.orderID, userID: record.owner, clientOrderID: view.clientOrderID, symbol: view.symbol,
            side: view.side.readModelName, type: view.type.readModelName, price: view.price, stopPrice: view.stopPrice,
            quantity: view.quantity, filledQuantity: view.filledQuantity, filledNotional: view.filledNotional,
            status: view.status.rawValue, timeInForce: view.timeInForce.readModelName, postOnly: view.postOnly,
            rejectReason: view.rejectReason?.readModelName, createdAtMillis: view.createdAtMillis,
            updatedAtMillis: view.updatedAtMillis)
    }

    static func transactionRow(_ timed: TimedEntry, user: UserID) -> TransactionRow {
        let entry = timed.entry
        return TransactionRow(
            userID: user, entryID: entry.id, type: entry.type.name, currency: entry.currency, amount: entry.amount,
            availableAfter: entry.availableAfter, lockedAfter: entry.lockedAfter, referenceID: entry.referenceID,
            timestampMillis: timed.timestampMillis)
    }

    static func tradeRow(_ trade: UserTrade, user: UserID) -> TradeRow {
        TradeRow(
            symbol: trade.symbol, tradeID: trade.tradeID, orderID: trade.orderID, userID: user,
            side: trade.side.readModelName, price: trade.price, quantity: trade.quantity, fee: trade.fee,
            feeCurrency: trade.feeCurrency, liquidity: trade.liquidity.name, timestampMillis: trade.timestampMillis)
    }

    /// The user's balances (every currency it has used) and positions (every market it has traded).
    static func appendBalances(of account: UserAccount, to batch: inout ProjectionBatch) {
        let ledger = account.ledger
        for currency in ledger.currencies {
            let balance = ledger.balance(currency)
            batch.wallets.append(
                WalletRow(
                    userID: ledger.userID, currency: currency, available: balance.available, locked: balance.locked))
        }
        for (symbol, position) in ledger.positions.sorted(by: { $0.key < $1.key }) {
            batch.holdings.append(
                HoldingRow(
                    userID: ledger.userID, symbol: symbol, base: position.base, quote: position.quote,
                    quantity: position.quantity, costBasis: position.costBasis, realizedPnL: position.realizedPnL,
                    feesPaid: position.feesPaid))
        }
    }
}

// The API's spellings, as the read models store them.

extension Side {
    var readModelName: String { self == .buy ? "buy" : "sell" }
}

extension OrderType {
    var readModelName: String {
        switch self {
        case .limit: "limit"
        case .market: "market"
        case .stop: "stop"
        case .stopLimit: "stop_limit"
        }
    }
}

extension TimeInForce {
    var readModelName: String {
        switch self {
        case .gtc: "gtc"
        case .ioc: "ioc"
        case .fok: "fok"
        }
    }
}

extension RejectReason {
    var readModelName: String {
        switch self {
        case .invalidOrder: "invalid_order"
        case .duplicateOrderID: "duplicate_order_id"
        case .postOnlyWouldCross: "post_only_would_cross"
        case .fillOrKillUnfillable: "fill_or_kill_unfillable"
        case .noLiquidity: "no_liquidity"
        case .unknownOrder: "unknown_order"
        case .invalidAmend: "invalid_amend"
        }
    }
}

extension AccountShardState.Command {
    /// Calls `user` for each user the command names and `order` for each order it touches (book events name
    /// orders only; the shard finds their owners, among its own orders): the subjects that activation and the
    /// read-model marks look at.
    func forEachSubject(user: (UserID) -> Void, order: (OrderID) -> Void) {
        switch self {
        case .deposit(let id, _, _, _, _), .withdraw(let id, _, _, _), .place(let id, _, _):
            user(id)
        case .amend(let id, let orderID, _, _):
            user(id)
            order(orderID)
        case .bookEvents(_, let events):
            for event in events {
                switch event.kind {
                case .trade(let trade):
                    order(trade.makerOrderID)
                    order(trade.takerOrderID)
                case .accepted(let id), .rejected(let id, _), .cancelled(let id, _, _), .expired(let id, _),
                    .triggered(let id), .amended(let id, _, _, _):
                    order(id)
                }
            }
        case .abandon(let orderID, _):
            order(orderID)
        }
    }
}
