/// The canonical state hash of docs/matching.md ("State hash"), shared with the reference book.
extension OrderBook {
    public var stateHash: UInt64 {
        var hasher = StateHasher()
        hasher.combine(sequence)
        hasher.combine(nextTradeID)
        hasher.combine(lastTradePrice != nil)
        hasher.combine(lastTradePrice?.ticks ?? 0)
        for side in [Side.buy, .sell] {
            hasher.combine(UInt64((side == .buy ? bids : asks).count(in: levels)))
            forEachResting(side) { order in
                hasher.combine(order.id)
                hasher.combine(order.owner)
                hasher.combine(order.price)
                hasher.combine(order.quantity)
                hasher.combine(order.remaining)
                hasher.combine(order.postOnly)
            }
        }
        for list in [buyStops, sellStops] {
            hasher.combine(UInt64(list.count))
            for stop in list {
                let order = stop.order
                hasher.combine(order.id)
                hasher.combine(order.owner)
                hasher.combine(UInt64(order.side.rawValue))
                hasher.combine(UInt64(order.type.rawValue))
                hasher.combine(order.stopPrice?.ticks ?? 0)
                hasher.combine(order.price != nil)
                hasher.combine(order.price?.ticks ?? 0)
                hasher.combine(order.quantity.lots)
                hasher.combine(UInt64(order.timeInForce.rawValue))
                hasher.combine(order.postOnly)
            }
        }
        return hasher.value
    }
}

extension Ladder {
    /// Number of orders on this side.
    func count(in levels: ContiguousArray<Level>) -> Int {
        var total = 0
        for level in self.levels { total += Int(levels[Int(level)].count) }
        return total
    }
}
