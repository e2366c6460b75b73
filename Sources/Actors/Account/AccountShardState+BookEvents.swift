import Trading

/// Applying a symbol's book events to the orders and ledgers of this shard's users.
extension AccountShardState {
    /// Events arrive in book order per symbol; anything at or below the last applied sequence is a
    /// redelivery and is skipped, so delivery can be at-least-once.
    mutating func applyBookEvents(symbol: String, events: [BookEvent], now: Int64) {
        let last = lastBookSequence[symbol] ?? 0
        for event in events where event.sequence > last {
            if !unanswered.isEmpty { markAnswered(event) }
            apply(event, symbol: symbol, now: now)
            lastBookSequence[symbol] = event.sequence
        }
    }

    private mutating func apply(_ event: BookEvent, symbol: String, now: Int64) {
        switch event.kind {
        case .accepted(let id):
            update(id) { record in
                record.acknowledged = true
            }
        case .triggered(let id):
            update(id) { record in
                record.triggered = true
                record.view.status = .new
            }
        case .rejected(let id, let reason):
            guard let user = orderOwners[id], let record = users[user]?.orders[id] else { return }
            if record.pendingAmend {
                // The amend (or a cancel racing it) failed: the order is unchanged; hold what it needs.
                finishAmend(id, price: record.view.price, quantity: record.view.quantity, now: now)
            } else if (!record.acknowledged && reason != .unknownOrder) || record.triggered {
                // An unknown order is the answer to a cancel or an amend that overtook the order's place on
                // its way to the book (`cancelAll` lists orders still being placed): the place comes next.
                close(id, status: .rejected, reason: reason, now: now)
            }
        case .cancelled(let id, _, _), .expired(let id, _):
            close(id, status: .cancelled, reason: nil, now: now)
        case .amended(let id, let price, let quantity, _):
            finishAmend(id, price: price, quantity: quantity, now: now)
        case .trade(let trade):
            if OrderIDs.shard(of: trade.makerOrderID) == index {
                settle(
                    trade, symbol: symbol, orderID: trade.makerOrderID, side: trade.takerSide.opposite, role: .maker,
                    now: now)
            }
            if OrderIDs.shard(of: trade.takerOrderID) == index {
                settle(
                    trade, symbol: symbol, orderID: trade.takerOrderID, side: trade.takerSide, role: .taker, now: now)
            }
        }
    }

    /// Any event of an order means its book has seen it, except "unknown order" (a cancel or an amend that
    /// overtook the place).
    private mutating func markAnswered(_ event: BookEvent) {
        switch event.kind {
        case .trade(let trade):
            unanswered.answer(trade.makerOrderID)
            unanswered.answer(trade.takerOrderID)
        case .rejected(_, .unknownOrder):
            break
        case .accepted(let id), .rejected(let id, _), .cancelled(let id, _, _), .expired(let id, _), .triggered(let id),
            .amended(let id, _, _, _):
            unanswered.answer(id)
        }
    }

    private mutating func update(_ id: OrderID, _ body: (inout OrderRecord) -> Void) {
        guard let user = orderOwners[id], users[user]?.orders[id] != nil else { return }
        body(&users[user]!.orders[id]!)
    }

    private mutating func settle(
        _ trade: Trade, symbol: String, orderID: OrderID, side: Side, role: LiquidityRole, now: Int64
    ) {
        guard let spec = markets[symbol], let user = orderOwners[orderID], users[user] != nil else {
            anomalies += 1
            return
        }
        let fill = Fill(
            tradeID: trade.id, orderID: orderID, owner: user, side: side, price: trade.price,
            quantity: trade.quantity, liquidity: role, spec: spec)
        do {
            // In place (see `withAccount`): a throwing `settle` changes nothing.
            try withAccount(user) { (account: inout UserAccount) throws(BourseError) in
                let settlement = try account.ledger.settle(fill: fill)
                guard settlement.applied else { return }
                if var record = account.orders[orderID] {
                    record.acknowledged = true
                    record.view.filledQuantity = Quantity(lots: record.view.filledQuantity.lots + trade.quantity.lots)
                    let notional = (try? spec.notional(trade.price, trade.quantity)) ?? .zero
                    record.view.filledNotional = Amount(units: record.view.filledNotional.units &+ notional.units)
                    record.view.fills.append(
                        OrderFill(
                            tradeID: trade.id, price: trade.price, quantity: trade.quantity, fee: settlement.fee,
                            feeCurrency: settlement.feeCurrency, liquidity: role, timestampMillis: now))
                    let done = record.view.filledQuantity >= record.view.quantity
                    record.view.status = done ? .filled : .partiallyFilled
                    record.view.updatedAtMillis = now
                    account.orders[orderID] = record
                    // Filled, and gone from the book: an amend still in flight had widened the reservation
                    // for a larger quantity (its answer will find no open order); release what is left.
                    if done, !settlement.orderClosed {
                        _ = try? account.ledger.release(symbol: symbol, orderID: orderID)
                    }
                }
                account.record(
                    UserTrade(
                        tradeID: trade.id, orderID: orderID, symbol: symbol, side: side, price: trade.price,
                        quantity: trade.quantity, fee: settlement.fee, feeCurrency: settlement.feeCurrency,
                        liquidity: role, timestampMillis: now))
                account.drainLedgerEntries(now: now, sellRealized: side == .sell ? settlement.realizedPnL : nil)
            }
        } catch {
            anomalies += 1
        }
    }

    /// Ends an order: status, reason, and whatever its reservation still holds goes back.
    mutating func close(_ id: OrderID, status: OrderStatus, reason: RejectReason?, now: Int64) {
        unanswered.answer(id)
        guard let user = orderOwners[id], var record = users[user]?.orders[id] else { return }
        guard record.view.status.isOpen else { return }
        record.acknowledged = true
        record.pendingAmend = false
        record.view.status = record.view.filledQuantity >= record.view.quantity ? .filled : status
        record.view.rejectReason = reason
        record.view.updatedAtMillis = now
        withAccount(user) { (account: inout UserAccount) in
            _ = try? account.ledger.release(symbol: record.view.symbol, orderID: id)
            account.orders[id] = record
            account.drainLedgerEntries(now: now)
        }
    }

    /// Sets the order to its (possibly amended) price and quantity and its reservation to exactly what
    /// the remaining part needs.
    private mutating func finishAmend(_ id: OrderID, price: Price?, quantity: Quantity, now: Int64) {
        guard let user = orderOwners[id], var record = users[user]?.orders[id], record.view.status.isOpen
        else { return }
        record.view.price = price
        record.view.quantity = quantity
        record.pendingAmend = false
        record.view.updatedAtMillis = now
        let remaining = quantity.lots - record.view.filledQuantity.lots
        let adjusted = withAccount(user) { (account: inout UserAccount) -> Bool in
            var adjusted = true
            if remaining > 0 {
                do {
                    try account.ledger.adjustReservation(
                        symbol: record.view.symbol, orderID: id, newPrice: price,
                        newRemainingQuantity: Quantity(lots: remaining))
                } catch {
                    adjusted = false
                }
            }
            account.orders[id] = record
            account.drainLedgerEntries(now: now)
            return adjusted
        }
        if !adjusted { anomalies += 1 }
    }
}
