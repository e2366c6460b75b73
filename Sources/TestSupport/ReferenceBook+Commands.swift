import Trading

/// The three commands, step by step as docs/matching.md ("Commands") describes them.
extension ReferenceBook {
    mutating func place(_ order: NewOrder) {
        if restingIndex(of: order.id) != nil || stops.contains(where: { $0.order.id == order.id }) {
            emit(.rejected(order.id, .duplicateOrderID))
            return
        }
        if !ReferenceBook.isValid(order) {
            emit(.rejected(order.id, .invalidOrder))
            return
        }
        switch order.type {
        case .stop, .stopLimit:
            emit(.accepted(order.id))
            stops.append(Stop(order: order, acceptanceKey: sequence))
        case .limit, .market:
            enter(order, isNew: true)
        }
        processTriggers()
    }

    /// The structural checks of `place`, rule 2 (`invalidOrder`).
    static func isValid(_ order: NewOrder) -> Bool {
        let priceRange: ClosedRange<Int64> = 1...MarketSpec.maxTicks
        if order.quantity.lots <= 0 || order.quantity.lots > MarketSpec.maxLots { return false }
        if let price = order.price, !priceRange.contains(price.ticks) { return false }
        if let stopPrice = order.stopPrice, !priceRange.contains(stopPrice.ticks) { return false }
        switch order.type {
        case .limit:
            if order.price == nil || order.stopPrice != nil { return false }
        case .market:
            if order.stopPrice != nil { return false }
        case .stop:
            if order.stopPrice == nil { return false }
        case .stopLimit:
            if order.stopPrice == nil || order.price == nil { return false }
        }
        if order.postOnly {
            if order.type == .market || order.type == .stop { return false }
            if order.timeInForce != .gtc { return false }
        }
        return true
    }

    mutating func cancel(_ id: OrderID) {
        if let (side, index) = restingIndex(of: id) {
            let order = removeResting(side, at: index)
            emit(.cancelled(id, remaining: order.remaining, reason: .user))
        } else if let index = stops.firstIndex(where: { $0.order.id == id }) {
            let stop = stops.remove(at: index)
            emit(.cancelled(id, remaining: stop.order.quantity, reason: .user))
        } else {
            emit(.rejected(id, .unknownOrder))
        }
    }

    mutating func amend(_ id: OrderID, price newPrice: Price?, quantity newQuantity: Quantity?) {
        amendWithoutTriggers(id, price: newPrice, quantity: newQuantity)
        processTriggers()
    }

    /// Amend steps 1–4; the caller runs step 5 (trigger processing).
    private mutating func amendWithoutTriggers(_ id: OrderID, price newPrice: Price?, quantity newQuantity: Quantity?) {
        guard let (side, index) = restingIndex(of: id) else {
            let isStop = stops.contains { $0.order.id == id }
            emit(.rejected(id, isStop ? .invalidAmend : .unknownOrder))
            return
        }
        let order = orders(side)[index]
        let filled = order.quantity.lots - order.remaining.lots
        let price = newPrice ?? order.price
        let quantity = newQuantity ?? order.quantity
        if price.ticks <= 0 || price.ticks > MarketSpec.maxTicks || quantity.lots <= filled
            || quantity.lots > MarketSpec.maxLots || (price == order.price && quantity == order.quantity)
        {
            emit(.rejected(id, .invalidAmend))
            return
        }
        let remaining = Quantity(lots: quantity.lots - filled)
        if price == order.price && quantity < order.quantity {
            // Quantity down at the same price: the order keeps its place.
            updateResting(side, at: index) {
                $0.quantity = quantity
                $0.remaining = remaining
            }
            emit(.amended(id, price: price, quantity: quantity, remaining: remaining))
            return
        }
        // New price or more quantity: the order re-queues.
        if order.postOnly, let best = bestPrice(side.opposite),
            ReferenceBook.isAcceptable(best, for: side, limit: price)
        {
            emit(.rejected(id, .postOnlyWouldCross))
            return
        }
        var amended = removeResting(side, at: index)
        amended.price = price
        amended.quantity = quantity
        amended.remaining = remaining
        emit(.amended(id, price: price, quantity: quantity, remaining: remaining))
        amended.remaining = match(id: id, owner: order.owner, side: side, remaining: remaining, limit: price)
        if amended.remaining.lots > 0 {
            rest(amended)
        }
    }
}
