/// Placing, matching and cancelling: the rules of docs/matching.md.
extension OrderBook {
    mutating func place(_ order: NewOrder, _ events: inout [BookEvent]) {
        if index.find(order.id) >= 0 || (!stops.isEmpty && stops[order.id] != nil) {
            emit(.rejected(order.id, .duplicateOrderID), &events)
            return
        }
        guard OrderBook.isValid(order) else {
            emit(.rejected(order.id, .invalidOrder), &events)
            return
        }
        switch order.type {
        case .limit, .market:
            enter(order, isNew: true, &events)
        case .stop, .stopLimit:
            emit(.accepted(order.id), &events)
            addStop(StopOrder(order: order, acceptKey: sequence))
        }
        if !stops.isEmpty { processTriggers(&events) }
    }

    static func isValid(_ order: NewOrder) -> Bool {
        guard order.quantity.lots > 0, order.quantity.lots <= MarketSpec.maxLots else { return false }
        if let price = order.price, price.ticks <= 0 || price.ticks > MarketSpec.maxTicks { return false }
        if let stop = order.stopPrice, stop.ticks <= 0 || stop.ticks > MarketSpec.maxTicks { return false }
        switch order.type {
        case .limit:
            guard order.price != nil, order.stopPrice == nil else { return false }
        case .market:
            guard order.stopPrice == nil, !order.postOnly else { return false }
        case .stop:
            guard order.stopPrice != nil, !order.postOnly else { return false }
        case .stopLimit:
            guard order.stopPrice != nil, order.price != nil else { return false }
        }
        if order.postOnly && order.timeInForce != .gtc { return false }
        return true
    }

    /// Best opposite key for an order of `side` (see `OrderBook.key`), or nil when that side is empty.
    /// A price `p` is acceptable to a taker with limit `L` iff `oppositeKey(p) ≥ oppositeKey(L)`, where
    /// `oppositeKey(p) = side == .buy ? −p : p`.
    @inline(__always) func bestOppositeKey(_ side: Side) -> Int64? {
        side == .buy ? asks.keys.last : bids.keys.last
    }

    /// Entry of a new limit/market order or of a triggered stop (already accepted).
    mutating func enter(_ order: NewOrder, isNew: Bool, _ events: inout [BookEvent]) {
        let side = order.side
        let limit: Int64
        if order.type == .limit || order.type == .stopLimit {
            limit = order.price!.ticks
        } else {
            guard let bestKey = bestOppositeKey(side) else {
                emit(.rejected(order.id, .noLiquidity), &events)
                return
            }
            let best = side == .buy ? -bestKey : bestKey
            limit =
                order.price?.ticks
                ?? MarketSpec.protectionPrice(side: side, reference: Price(ticks: best), bps: protectionBps).ticks
            if side == .buy ? best > limit : best < limit {
                emit(.rejected(order.id, .noLiquidity), &events)
                return
            }
        }
        let limitKey = side == .buy ? -limit : limit
        if order.postOnly, let bestKey = bestOppositeKey(side), bestKey >= limitKey {
            emit(.rejected(order.id, .postOnlyWouldCross), &events)
            return
        }
        if order.timeInForce == .fok,
            !canFill(side: side, owner: order.owner, limitKey: limitKey, quantity: order.quantity.lots)
        {
            emit(.rejected(order.id, .fillOrKillUnfillable), &events)
            return
        }
        if isNew { emit(.accepted(order.id), &events) }
        let remaining = match(
            id: order.id, owner: order.owner, side: side, limitKey: limitKey, remaining: order.quantity.lots, &events)
        guard remaining > 0 else { return }
        if (order.type == .limit || order.type == .stopLimit) && order.timeInForce == .gtc {
            rest(
                id: order.id, owner: order.owner, side: side, price: limit, quantity: order.quantity.lots,
                remaining: remaining, postOnly: order.postOnly)
        } else {
            emit(.expired(order.id, remaining: Quantity(lots: remaining)), &events)
        }
    }

    /// Whether opposite orders of other owners at acceptable prices add up to `quantity`.
    func canFill(side: Side, owner: UserID, limitKey: Int64, quantity: Int64) -> Bool {
        let ladder = side == .buy ? asks : bids
        var available: Int64 = 0
        var position = ladder.keys.count - 1
        while position >= 0, ladder.keys[position] >= limitKey {
            var slot = levels[Int(ladder.levels[position])].head
            while slot >= 0 {
                let order = orders[Int(slot)]
                if order.owner != owner {
                    available &+= order.remaining
                    if available >= quantity { return true }
                }
                slot = order.next
            }
            position -= 1
        }
        return false
    }

    /// Matches a taker against the opposite side while prices are acceptable; returns what remains.
    mutating func match(
        id: OrderID, owner: UserID, side: Side, limitKey: Int64, remaining start: Int64, _ events: inout [BookEvent]
    ) -> Int64 {
        var remaining = start
        while remaining > 0 {
            guard let bestKey = bestOppositeKey(side), bestKey >= limitKey else { break }
            let level = side == .buy ? asks.levels[asks.levels.count - 1] : bids.levels[bids.levels.count - 1]
            // Walk the level's FIFO from its head; `remove(slot:)` drops the level once it empties.
            var slot = levels[Int(level)].head
            while remaining > 0, slot >= 0 {
                let maker = orders[Int(slot)]
                let next = maker.next
                if maker.owner == owner {
                    remove(slot: slot)
                    emit(.cancelled(maker.id, remaining: Quantity(lots: maker.remaining), reason: .selfTrade), &events)
                } else {
                    let quantity = min(remaining, maker.remaining)
                    remaining &-= quantity
                    let makerRemaining = maker.remaining &- quantity
                    lastTradePrice = Price(ticks: maker.price)
                    let trade = Trade(
                        id: nextTradeID, price: Price(ticks: maker.price), quantity: Quantity(lots: quantity),
                        takerSide: side, makerOrderID: maker.id, makerOwner: maker.owner,
                        makerRemaining: Quantity(lots: makerRemaining), takerOrderID: id, takerOwner: owner,
                        takerRemaining: Quantity(lots: remaining))
                    nextTradeID &+= 1
                    if makerRemaining == 0 {
                        remove(slot: slot)
                    } else {
                        orders[Int(slot)].remaining = makerRemaining
                        levels[Int(level)].total &-= quantity
                    }
                    emit(.trade(trade), &events)
                }
                slot = next
            }
        }
        return remaining
    }

    mutating func cancel(_ id: OrderID, _ events: inout [BookEvent]) {
        let slot = index.find(id)
        if slot >= 0 {
            let remaining = orders[Int(slot)].remaining
            remove(slot: slot)
            emit(.cancelled(id, remaining: Quantity(lots: remaining), reason: .user), &events)
        } else if let stop = removeStop(id) {
            emit(.cancelled(id, remaining: stop.order.quantity, reason: .user), &events)
        } else {
            emit(.rejected(id, .unknownOrder), &events)
        }
    }

    mutating func amend(_ id: OrderID, price: Price?, quantity: Quantity?, _ events: inout [BookEvent]) {
        let slot = index.find(id)
        guard slot >= 0 else {
            emit(.rejected(id, stops[id] != nil ? .invalidAmend : .unknownOrder), &events)
            return
        }
        let order = orders[Int(slot)]
        let filled = order.quantity &- order.remaining
        let newPrice = price?.ticks ?? order.price
        let newQuantity = quantity?.lots ?? order.quantity
        guard newPrice > 0, newPrice <= MarketSpec.maxTicks, newQuantity > filled, newQuantity <= MarketSpec.maxLots,
            newPrice != order.price || newQuantity != order.quantity
        else {
            emit(.rejected(id, .invalidAmend), &events)
            return
        }
        let newRemaining = newQuantity &- filled
        if newPrice == order.price && newQuantity < order.quantity {
            // Less quantity at the same price keeps time priority.
            orders[Int(slot)].quantity = newQuantity
            orders[Int(slot)].remaining = newRemaining
            levels[Int(order.level)].total &-= order.remaining &- newRemaining
            emit(
                .amended(
                    id, price: Price(ticks: newPrice), quantity: Quantity(lots: newQuantity),
                    remaining: Quantity(lots: newRemaining)), &events)
            return
        }
        let limitKey = order.side == .buy ? -newPrice : newPrice
        if order.postOnly, let bestKey = bestOppositeKey(order.side), bestKey >= limitKey {
            emit(.rejected(id, .postOnlyWouldCross), &events)
            return
        }
        remove(slot: slot)
        emit(
            .amended(
                id, price: Price(ticks: newPrice), quantity: Quantity(lots: newQuantity),
                remaining: Quantity(lots: newRemaining)), &events)
        let remaining = match(
            id: id, owner: order.owner, side: order.side, limitKey: limitKey, remaining: newRemaining, &events)
        if remaining > 0 {
            rest(
                id: id, owner: order.owner, side: order.side, price: newPrice, quantity: newQuantity,
                remaining: remaining, postOnly: order.postOnly)
        }
        if !stops.isEmpty { processTriggers(&events) }
    }
}
