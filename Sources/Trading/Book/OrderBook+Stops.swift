/// Untriggered stop and stop-limit orders and their triggering by the last trade price.
extension OrderBook {
    /// Inserts a stop in trigger order: buys by stop price ascending, sells descending; equal stop
    /// prices by acceptance (the new stop goes after all equal ones, as its key is the newest).
    mutating func addStop(_ stop: StopOrder) {
        stops[stop.order.id] = stop
        let stopPrice = stop.order.stopPrice!.ticks
        if stop.order.side == .buy {
            let position = upperBound(buyStops) { $0.order.stopPrice!.ticks <= stopPrice }
            buyStops.insert(stop, at: position)
        } else {
            let position = upperBound(sellStops) { $0.order.stopPrice!.ticks >= stopPrice }
            sellStops.insert(stop, at: position)
        }
    }

    /// First position where `before` is false, for a predicate that holds on a prefix.
    private func upperBound(_ list: [StopOrder], _ before: (StopOrder) -> Bool) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let mid = (low + high) / 2
            if before(list[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func removeStop(_ id: OrderID) -> StopOrder? {
        guard let stop = stops.removeValue(forKey: id) else { return nil }
        if stop.order.side == .buy {
            buyStops.removeAll { $0.order.id == id }
        } else {
            sellStops.removeAll { $0.order.id == id }
        }
        return stop
    }

    /// Triggers every stop whose condition holds, one check at a time, and enters the triggered orders
    /// one by one in trigger order; orders triggered by their trades queue up behind.
    mutating func processTriggers(_ events: inout [BookEvent]) {
        var queue: [NewOrder] = []
        var head = 0
        while true {
            if let last = lastTradePrice?.ticks {
                var buys = 0
                while buys < buyStops.count, buyStops[buys].order.stopPrice!.ticks <= last { buys += 1 }
                var sells = 0
                while sells < sellStops.count, sellStops[sells].order.stopPrice!.ticks >= last { sells += 1 }
                for stop in buyStops[..<buys] { trigger(stop, &queue, &events) }
                for stop in sellStops[..<sells] { trigger(stop, &queue, &events) }
                buyStops.removeFirst(buys)
                sellStops.removeFirst(sells)
            }
            guard head < queue.count else { return }
            let next = queue[head]
            head += 1
            enter(next, isNew: false, &events)
        }
    }

    private mutating func trigger(_ stop: StopOrder, _ queue: inout [NewOrder], _ events: inout [BookEvent]) {
        stops[stop.order.id] = nil
        emit(.triggered(stop.order.id), &events)
        var order = stop.order
        order.type = order.type == .stop ? .market : .limit
        order.stopPrice = nil
        queue.append(order)
    }
}
