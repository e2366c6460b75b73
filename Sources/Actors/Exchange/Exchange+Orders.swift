import Metrics
import Storage
import Trading

/// The order flows: reserve in the owner's account shard, then sequence, journal and match in the
/// symbol (which delivers the resulting events to every account concerned before answering).
extension Exchange {
    public func placeOrder(user: UserID, request: OrderRequest) async throws -> (order: OrderView, created: Bool) {
        let started = ContinuousClock.now
        defer { Exchange.orderLatency.record(duration: ContinuousClock.now - started) }
        let symbol = try symbolRoute(request.symbol)
        let account = try accountShard(ofUser: user)
        // Only an order with a client order id can be a retry (no actor hop for the others).
        if request.clientOrderID != nil,
            let existing = await account.existingOrder(user: user, clientOrderID: request.clientOrderID)
        {
            return (try Self.retried(try await acknowledged(existing, in: account), request), false)
        }
        // Only market and stop buys need the book's prices before their reservation (the protection price they
        // reserve at); other orders only need the market not to be halted, which a local book tells without a hop.
        var protection: Price?
        let marketBuy = request.side == .buy && request.type == .market
        let stopBuy = request.side == .buy && request.type == .stop
        if marketBuy || stopBuy || !symbol.isKnownOpen {
            let quote = try await symbol.quote()
            if quote.halted { throw BourseError(.orderRejected, "market \(request.symbol) is halted") }
            if marketBuy {
                guard let ask = quote.ask else { throw BourseError(.orderRejected, "no liquidity for a market order") }
                protection = MarketSpec.protectionPrice(side: .buy, reference: ask, bps: configuration.protectionBps)
            }
            if stopBuy, let stop = request.stopPrice {
                protection = Self.stopBuyProtection(stop: stop, quote: quote, bps: configuration.protectionBps)
            }
        }
        let outcome: AccountShardState.Outcome
        // A book served here does not let its own record be committed without the reservation's (the two appends
        // overlap); a book on another node is sent the order once its reservation is durable.
        var reservation: Reservation?
        let reserving = ContinuousClock.now
        do {
            let command = AccountShardState.Command.place(user: user, request: request, protection: protection)
            if case .local = symbol {
                let reserved = try await account.reserve(command, nowMillis: clock())
                outcome = reserved.outcome
                reservation = Reservation(account: account, position: reserved.position)
            } else {
                outcome = try await account.execute(command, nowMillis: clock())
            }
        } catch let error as BourseError where error.code == .conflict {
            // A retry that raced the first request past the check above: the account refused to place the
            // order twice; answer as a retry.
            guard let existing = await account.existingOrder(user: user, clientOrderID: request.clientOrderID)
            else { throw error }
            return (try Self.retried(try await acknowledged(existing, in: account), request), false)
        }
        guard case .order(let order, let settledThrough) = outcome else {
            throw BourseError(.internal, "unexpected outcome")
        }
        let booking = ContinuousClock.now
        Exchange.reserveLatency.record(duration: booking - reserving)
        defer { Exchange.bookLatency.record(duration: ContinuousClock.now - booking) }
        var events: [BookEvent] = []
        do {
            if case .local(let book) = symbol, let reservation {
                events = try await book.place(
                    order, settledThrough: settledThrough, nowMillis: clock(), after: reservation)
            } else {
                events = try await symbol.place(order, settledThrough: settledThrough, nowMillis: clock())
            }
        } catch let error as BourseError where error.code == .orderRejected {
            // Halted between the check and the submit: the order never reached the book.
            _ = try? await account.execute(.abandon(orderID: order.id, reason: .invalidOrder), nowMillis: clock())
            throw error
        } catch  where servesPart {
            // Never accepted unless its reservation is durable (one the book waited for may have failed).
            if let reservation { try await account.awaitDurable(through: reservation.sequence) }
            // The book, on another node, did not answer in time (moving, or its node failed). The order is
            // reserved and journaled, and its place is sent again until its book answers
            // (`Exchange+Resubmission`): it is accepted, and answered as it stands — open, on its way to the
            // book — not as a failure, which a client would retry into a second order.
            logger.warning(
                "an order's book did not answer; it is accepted and its place will be sent again",
                metadata: ["order": "\(order.id)", "symbol": "\(request.symbol)", "error": "\(error)"])
            // An order its book decides at once is answered with that decision, not as `new`: a market order
            // without liquidity is a 422, an IOC is filled or expired.
            if Self.decidedAtPlacement(request) {
                await awaitBookAnswer(
                    order.id, in: account, until: started + configuration.resubmitAfter + Self.answerGrace)
            }
        }
        Exchange.ordersPlaced.increment()
        // The book answered once its record was durable, and so the reservation; a repeat it did not journal
        // again is answered only once the reservation is durable too.
        let answered =
            if let reservation {
                try await account.order(order.id, durableThrough: reservation.sequence)
            } else {
                await account.order(order.id)
            }
        guard let record = answered else { throw BourseError(.internal, "order lost") }
        if record.view.status == .rejected {
            throw BourseError(.orderRejected, Exchange.describe(record.view.rejectReason))
        }
        // The book could not deliver its events here (the account shard moved while the order was on its way):
        // the book's answer tells a rejection, which the shard's next owner settles when they are sent again.
        if !record.acknowledged, let reason = Self.rejection(of: order.id, in: events) {
            throw BourseError(.orderRejected, Exchange.describe(reason))
        }
        return (record.view, true)
    }

    /// Orders whose fate the book decides when it places them: they never rest as they are (a post-only order
    /// rests or is rejected).
    static func decidedAtPlacement(_ request: OrderRequest) -> Bool {
        request.type == .market || request.timeInForce != .gtc || request.postOnly
    }

    /// Beyond `resubmitAfter` from its request, how long an order decided at placement waits for its book's answer
    /// when the first place went unanswered (a resubmission round or two). With the default 10 s it is answered
    /// within 12 s, inside the 15 s a node forwarding the request waits.
    static let answerGrace: Duration = .seconds(2)

    /// Waits until the book has answered order `id` (its events reached the account shard) or `deadline` has
    /// passed — the place is sent again meanwhile (`Exchange+Resubmission`). Only after a place went unanswered;
    /// past the deadline the order is answered as it stands (open, on its way to its book).
    func awaitBookAnswer(_ id: OrderID, in account: AccountShardActor, until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if let record = await account.order(id), record.acknowledged || !record.view.status.isOpen { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    public func order(user: UserID, orderID: OrderID) async throws -> OrderView {
        do {
            return try await ownedOrder(user: user, orderID: orderID).view
        } catch let error as BourseError where error.code == .notFound {
            guard let archived = try await archivedOrder(user: user, orderID: orderID) else { throw error }
            return archived
        }
    }

    public func orders(user: UserID, filter: OrderFilter) async throws -> [OrderView] {
        guard let account = try await accountShard(ofUser: user).account(user) else { return [] }
        var result: [OrderView] = []
        for id in account.orderIDs.reversed() {
            guard let order = account.orders[id]?.view else { continue }
            if let symbol = filter.symbol, order.symbol != symbol { continue }
            switch filter.status {
            case .open where !order.status.isOpen, .closed where order.status.isOpen: continue
            default: break
            }
            result.append(order)
            if result.count >= filter.limit { break }
        }
        // Short of the limit, or reaching below an order trimmed from memory: the trimmed ones are in the read
        // models (all closed: open orders are never trimmed, so a list of open orders is always whole).
        let trimmed = account.ordersTrimmedThrough
        guard trimmed > 0, filter.status != .open,
            result.count < filter.limit || result.last.map({ $0.orderID < trimmed }) == true,
            let store = projections?.store
        else { return result }
        let older = try await readHistory("order history") {
            let rows = try await store.orders(
                user: user, symbol: filter.symbol, closedOnly: filter.status == .closed, limit: filter.limit
            ).filter { account.orders[$0.orderID] == nil }
            let fills = Dictionary(grouping: try await store.trades(user: user, orders: rows.map(\.orderID))) {
                $0.orderID
            }
            return try rows.map { try OrderView(archived: $0, fills: fills[$0.orderID] ?? []) }
        }
        return Array((result + older).sorted { $0.orderID > $1.orderID }.prefix(filter.limit))
    }

    public func cancelOrder(user: UserID, orderID: OrderID) async throws -> OrderView {
        let record = try await changeableOrder(user: user, orderID: orderID)
        guard record.view.status.isOpen else { throw BourseError(.conflict, "order is \(record.view.status.rawValue)") }
        let events = try await symbolRoute(record.view.symbol).submit(.cancel(orderID), nowMillis: clock())
        let after = try await ownedOrder(user: user, orderID: orderID).view
        // Only the cancel that took the order off the book answers 200: one that lost a race with another cancel
        // or with the fill that closed the order finds it cancelled or filled already (409, as api.md says).
        let cancelledHere = events.contains {
            if case .cancelled(let id, _, .user) = $0.kind { id == orderID } else { false }
        }
        if cancelledHere { return after }
        throw BourseError(
            .conflict, after.status.isOpen ? "order is no longer cancellable" : "order is \(after.status.rawValue)")
    }

    public func cancelAll(user: UserID, symbol: String?) async throws -> [OrderView] {
        if let symbol { _ = try symbolActor(symbol) }
        let open = try await orders(user: user, filter: OrderFilter(status: .open, symbol: symbol, limit: .max))
        var cancelled: [OrderView] = []
        for order in open.reversed() {
            if let view = try? await cancelOrder(user: user, orderID: order.orderID) { cancelled.append(view) }
        }
        return cancelled
    }

    public func amendOrder(user: UserID, orderID: OrderID, price: Price?, quantity: Quantity?) async throws
        -> OrderView
    {
        let record = try await changeableOrder(user: user, orderID: orderID)
        guard price != nil || quantity != nil else { throw BourseError.validation("give a price or a quantity") }
        let account = try accountShard(ofUser: user)
        _ = try await account.execute(
            .amend(user: user, orderID: orderID, price: price, quantity: quantity), nowMillis: clock())
        let events = try await symbolRoute(record.view.symbol).submit(
            .amend(orderID, price: price, quantity: quantity), nowMillis: clock())
        for event in events {
            guard case .rejected(let id, let reason) = event.kind, id == orderID else { continue }
            switch reason {
            case .postOnlyWouldCross: throw BourseError(.orderRejected, "post-only order would take liquidity")
            case .unknownOrder: throw BourseError(.conflict, "order is no longer open")
            default: throw BourseError.validation("amend changes nothing or is out of range")
            }
        }
        return try await ownedOrder(user: user, orderID: orderID).view
    }

    /// The order if it is the caller's; anything else is "not found" (never reveal other users' orders).
    private func ownedOrder(user: UserID, orderID: OrderID) async throws -> OrderRecord {
        guard let shard = try accountShard(ofOrder: orderID), let record = await shard.order(orderID),
            record.owner == user
        else { throw BourseError(.notFound, "order not found") }
        return record
    }

    /// The order to cancel or amend if it is the caller's; one that only the read models still hold is closed
    /// (a user's history in memory drops its oldest closed orders), so it can no longer change: 409.
    private func changeableOrder(user: UserID, orderID: OrderID) async throws -> OrderRecord {
        do {
            return try await ownedOrder(user: user, orderID: orderID)
        } catch let error as BourseError where error.code == .notFound {
            guard let archived = try await archivedOrder(user: user, orderID: orderID) else { throw error }
            throw BourseError(
                .conflict, archived.status.isOpen ? "order is no longer open" : "order is \(archived.status.rawValue)")
        }
    }

    /// One of the user's orders older than their history in memory (`UserAccount.historyCapacity`), as the
    /// `orders` read model holds it, with its fills from `trade_history`; nil when it is not there or not the
    /// user's, or when this node keeps no read models.
    private func archivedOrder(user: UserID, orderID: OrderID) async throws -> OrderView? {
        guard let store = projections?.store else { return nil }
        return try await readHistory("order history") {
            guard let row = try await store.order(id: orderID), row.userID == user else { return nil }
            return try OrderView(archived: row, fills: try await store.trades(user: user, order: orderID))
        }
    }

    /// Reads history older than memory from the read models: a database that cannot answer is 503 (retry).
    func readHistory<Value>(_ what: String, _ read: () async throws -> Value) async throws -> Value {
        do {
            return try await read()
        } catch let error as BourseError {
            throw error
        } catch {
            logger.warning("\(what) unreadable", metadata: ["error": "\(error)"])
            throw BourseError(.unavailable, "\(what) is unavailable; retry")
        }
    }

    /// Time to answer `POST /v1/orders`: reservation, journal commits, matching and settlement.
    static let orderLatency = Metrics.Timer(label: "bourse_order_latency")
    /// The first part of `bourse_order_latency`: the reservation in the owner's account shard — through the
    /// durable commit of its record for a book on another node; for a book here that commit overlaps the book
    /// stage, which waits for it.
    static let reserveLatency = Metrics.Timer(label: "bourse_order_reserve_latency")
    /// The rest of it for a reserved order: sequencing, journaling and matching in the book, delivery of the
    /// events to the accounts concerned, and reading the order back for the answer.
    static let bookLatency = Metrics.Timer(label: "bourse_order_book_latency")
    /// Orders that reached a book.
    static let ordersPlaced = Counter(label: "bourse_orders_placed")

    /// Waits until the book has answered for an order a retry found (so the retry never reports an order
    /// that is not durable yet); 503 if that takes more than a few seconds.
    /// The order a retry names once its book has answered for it and its reservation is durable (a retry must
    /// not be told of an order that could still be lost).
    private func acknowledged(_ existing: (record: OrderRecord, through: Int64), in account: AccountShardActor)
        async throws -> OrderRecord
    {
        let inProgress = BourseError(.unavailable, "the first request with this client_order_id is still in progress")
        var record = existing.record
        let id = record.view.orderID
        let deadline = ContinuousClock.now + .seconds(5)
        while !record.acknowledged {
            guard ContinuousClock.now < deadline else { throw inProgress }
            try await Task.sleep(for: .milliseconds(2))
            guard let latest = await account.order(id) else { throw inProgress }
            record = latest
        }
        guard let durable = try await account.order(id, durableThrough: existing.through) else { throw inProgress }
        return durable
    }

    /// The first result of the request that placed `existing`, for a retry with the same client_order_id:
    /// the order, or the rejection it met.
    static func retried(_ existing: OrderRecord, _ request: OrderRequest) throws(BourseError) -> OrderView {
        guard existing.request == request else {
            throw BourseError(.conflict, "client_order_id was used for an order with other content")
        }
        if existing.view.status == .rejected {
            throw BourseError(.orderRejected, describe(existing.view.rejectReason))
        }
        return existing.view
    }

    /// Why the book rejected `id`, if `events` say it did.
    static func rejection(of id: OrderID, in events: [BookEvent]) -> RejectReason? {
        for event in events {
            if case .rejected(id, let reason) = event.kind { return reason }
        }
        return nil
    }

    static func describe(_ reason: RejectReason?) -> String {
        switch reason {
        case .postOnlyWouldCross: "post-only order would take liquidity"
        case .fillOrKillUnfillable: "fill-or-kill order cannot be filled in full"
        case .noLiquidity: "no liquidity for a market order"
        case .duplicateOrderID: "duplicate order id"
        default: "order rejected by the market"
        }
    }
}

extension Exchange {
    /// The protection price a buy stop reserves at, and trades no higher than once triggered. A stop the last
    /// trade has already reached enters the book at once as a market buy, so it is protected as one: 5% (the
    /// configured bps) through the best ask. A stop that rests is protected from its stop price, where the last
    /// trade will be when it triggers; if the market has moved further than that by then, it fills only up to
    /// the price its reservation covers (and is rejected for no liquidity when nothing is offered there).
    static func stopBuyProtection(stop: Price, quote: SymbolQuote, bps: Int64) -> Price {
        if let last = quote.last, last.ticks >= stop.ticks, let ask = quote.ask {
            return MarketSpec.protectionPrice(side: .buy, reference: ask, bps: bps)
        }
        return MarketSpec.protectionPrice(side: .buy, reference: stop, bps: bps)
    }
}
