import Trading

/// Entry, matching and trigger processing, as docs/matching.md describes them, plus the few helpers that
/// keep the resting arrays in priority order.
extension ReferenceBook {
    /// Whether a resting price `price` is acceptable to a taker of `side` with limit price `limit`.
    static func isAcceptable(_ price: Price, for side: Side, limit: Price) -> Bool {
        side == .buy ? price <= limit : price >= limit
    }

    /// Entry of a new limit or market order (`isNew`) or of a triggered stop (`!isNew`).
    mutating func enter(_ order: NewOrder, isNew: Bool) {
        let opposite = order.side.opposite
        // A triggered stop enters as a market order, a triggered stop-limit as a limit order.
        let isLimit = order.type == .limit || order.type == .stopLimit
        // 1. The limit price.
        let limit: Price
        if isLimit {
            limit = order.price!
        } else {
            guard let best = bestPrice(opposite) else {
                emit(.rejected(order.id, .noLiquidity))
                return
            }
            limit =
                order.price
                ?? MarketSpec.protectionPrice(side: order.side, reference: best, bps: protectionBps)
            if !ReferenceBook.isAcceptable(best, for: order.side, limit: limit) {
                emit(.rejected(order.id, .noLiquidity))
                return
            }
        }
        // 2. Post-only.
        if order.postOnly, let best = bestPrice(opposite),
            ReferenceBook.isAcceptable(best, for: order.side, limit: limit)
        {
            emit(.rejected(order.id, .postOnlyWouldCross))
            return
        }
        // 3. Fill-or-kill, counting only other owners' orders.
        if order.timeInForce == .fok {
            let available = orders(opposite)
                .filter {
                    ReferenceBook.isAcceptable($0.price, for: order.side, limit: limit) && $0.owner != order.owner
                }
                .reduce(0) { $0 + $1.remaining.lots }
            if available < order.quantity.lots {
                emit(.rejected(order.id, .fillOrKillUnfillable))
                return
            }
        }
        // 4. Accepted.
        if isNew {
            emit(.accepted(order.id))
        }
        // 5. Match.
        let remaining = match(
            id: order.id, owner: order.owner, side: order.side, remaining: order.quantity, limit: limit)
        // 6. Rest or expire.
        if remaining.lots > 0 {
            if isLimit && order.timeInForce == .gtc {
                rest(
                    Order(
                        id: order.id, owner: order.owner, side: order.side, price: limit, quantity: order.quantity,
                        remaining: remaining, postOnly: order.postOnly))
            } else {
                emit(.expired(order.id, remaining: remaining))
            }
        }
    }

    /// Matches a taker against the opposite side while it has quantity left and the best opposite price is
    /// acceptable at `limit`; returns what is left of the taker.
    mutating func match(id: OrderID, owner: UserID, side: Side, remaining: Quantity, limit: Price) -> Quantity {
        let opposite = side.opposite
        var remaining = remaining
        while remaining.lots > 0, let best = bestPrice(opposite),
            ReferenceBook.isAcceptable(best, for: side, limit: limit)
        {
            // The first order of the opposite side is the oldest at the best price.
            let maker = orders(opposite)[0]
            if maker.owner == owner {
                removeResting(opposite, at: 0)
                emit(.cancelled(maker.id, remaining: maker.remaining, reason: .selfTrade))
                continue
            }
            let quantity = min(remaining, maker.remaining)
            remaining.lots -= quantity.lots
            let makerRemaining = Quantity(lots: maker.remaining.lots - quantity.lots)
            if makerRemaining.lots == 0 {
                removeResting(opposite, at: 0)
            } else {
                updateResting(opposite, at: 0) { $0.remaining = makerRemaining }
            }
            lastTradePrice = maker.price
            let trade = Trade(
                id: nextTradeID, price: maker.price, quantity: quantity, takerSide: side, makerOrderID: maker.id,
                makerOwner: maker.owner, makerRemaining: makerRemaining, takerOrderID: id, takerOwner: owner,
                takerRemaining: remaining)
            nextTradeID += 1
            emit(.trade(trade))
        }
        return remaining
    }

    /// Triggers every eligible stop, then enters the triggered orders one at a time, re-checking after each.
    mutating func processTriggers() {
        var queue: [NewOrder] = []
        while true {
            if let last = lastTradePrice {
                let eligible =
                    stopsInTriggerOrder(.buy).filter { $0.stopPrice <= last }
                    + stopsInTriggerOrder(.sell).filter { $0.stopPrice >= last }
                for stop in eligible {
                    stops.removeAll { $0.order.id == stop.order.id }
                    emit(.triggered(stop.order.id))
                    queue.append(stop.order)
                }
            }
            if queue.isEmpty { return }
            enter(queue.removeFirst(), isNew: false)
        }
    }

    // MARK: Resting orders

    /// Where the resting order `id` is, if it rests.
    func restingIndex(of id: OrderID) -> (Side, Int)? {
        if let index = bids.firstIndex(where: { $0.id == id }) { return (.buy, index) }
        if let index = asks.firstIndex(where: { $0.id == id }) { return (.sell, index) }
        return nil
    }

    /// Adds an order at the back of its price level: after every order of its side at the same or a better price.
    mutating func rest(_ order: Order) {
        let isBehind: (Order) -> Bool = { other in
            order.side == .buy ? other.price < order.price : other.price > order.price
        }
        switch order.side {
        case .buy: bids.insert(order, at: bids.firstIndex(where: isBehind) ?? bids.count)
        case .sell: asks.insert(order, at: asks.firstIndex(where: isBehind) ?? asks.count)
        }
    }

    @discardableResult
    mutating func removeResting(_ side: Side, at index: Int) -> Order {
        switch side {
        case .buy: bids.remove(at: index)
        case .sell: asks.remove(at: index)
        }
    }

    mutating func updateResting(_ side: Side, at index: Int, _ change: (inout Order) -> Void) {
        switch side {
        case .buy: change(&bids[index])
        case .sell: change(&asks[index])
        }
    }
}
