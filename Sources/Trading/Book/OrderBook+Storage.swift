/// The book's internal storage: order and level pools, and the sorted ladders of levels.

struct OrderSlot: Sendable {
    var id: OrderID
    var owner: UserID
    var price: Int64
    var quantity: Int64
    var remaining: Int64
    var prev: Int32
    var next: Int32
    var level: Int32
    var side: Side
    var postOnly: Bool
}

struct Level: Sendable {
    var price: Int64
    var total: Int64
    var count: Int32
    var head: Int32
    var tail: Int32
}

/// Levels of one side, sorted by key ascending (best last). Key: price for bids, −price for asks.
struct Ladder: Sendable {
    var keys: ContiguousArray<Int64> = []
    var levels: ContiguousArray<Int32> = []

    init() {
        keys.reserveCapacity(256)
        levels.reserveCapacity(256)
    }

    /// First position whose key is ≥ `key`.
    @inline(__always) func lowerBound(_ key: Int64) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low &+ high) >> 1
            if keys[mid] < key { low = mid &+ 1 } else { high = mid }
        }
        return low
    }

    /// The level with `key`, created from the pool when absent.
    mutating func findOrInsert(
        key: Int64, price: Int64, levels: inout ContiguousArray<Level>, freeLevel: inout Int32
    ) -> Int32 {
        // Most activity is at or near the top of the book: check the best level first.
        let position: Int
        if let last = keys.last, last <= key {
            if last == key { return self.levels[self.levels.count - 1] }
            position = keys.count
        } else {
            position = lowerBound(key)
            if position < keys.count, keys[position] == key { return self.levels[position] }
        }
        let record = Level(price: price, total: 0, count: 0, head: -1, tail: -1)
        let level: Int32
        if freeLevel >= 0 {
            level = freeLevel
            freeLevel = levels[Int(level)].head
            levels[Int(level)] = record
        } else {
            level = Int32(levels.count)
            levels.append(record)
        }
        keys.insert(key, at: position)
        self.levels.insert(level, at: position)
        return level
    }

    /// Removes the level with `key` (which must exist) from the ladder.
    mutating func remove(key: Int64) {
        let position = keys.last == key ? keys.count - 1 : lowerBound(key)
        keys.remove(at: position)
        levels.remove(at: position)
    }
}

struct StopOrder: Sendable {
    var order: NewOrder
    /// The sequence number of its `accepted` event: time priority among equal stop prices.
    var acceptKey: UInt64
}

extension OrderBook {
    @inline(__always) static func key(_ price: Int64, _ side: Side) -> Int64 { side == .buy ? price : -price }

    @inline(__always) mutating func emit(_ kind: BookEvent.Kind, _ events: inout [BookEvent]) {
        sequence &+= 1
        events.append(BookEvent(sequence: sequence, kind: kind))
    }

    /// Appends a resting order at the back of its price level, creating the level if needed.
    mutating func rest(
        id: OrderID, owner: UserID, side: Side, price: Int64, quantity: Int64, remaining: Int64, postOnly: Bool
    ) {
        let level = levelFor(price: price, side: side)
        let slot: Int32
        let tail = levels[Int(level)].tail
        let record = OrderSlot(
            id: id, owner: owner, price: price, quantity: quantity, remaining: remaining, prev: tail, next: -1,
            level: level, side: side, postOnly: postOnly)
        if freeOrder >= 0 {
            slot = freeOrder
            freeOrder = orders[Int(slot)].next
            orders[Int(slot)] = record
        } else {
            slot = Int32(orders.count)
            orders.append(record)
        }
        if tail >= 0 { orders[Int(tail)].next = slot } else { levels[Int(level)].head = slot }
        levels[Int(level)].tail = slot
        levels[Int(level)].count &+= 1
        levels[Int(level)].total &+= remaining
        index.insert(id, slot)
    }

    /// The level of `price` on `side`, inserted into the ladder if it does not exist.
    @inline(__always) mutating func levelFor(price: Int64, side: Side) -> Int32 {
        if side == .buy {
            return bids.findOrInsert(key: price, price: price, levels: &levels, freeLevel: &freeLevel)
        } else {
            return asks.findOrInsert(key: -price, price: price, levels: &levels, freeLevel: &freeLevel)
        }
    }

    /// Unlinks a resting order from its level and the index and frees its slot. An emptied level is
    /// removed from its ladder too.
    mutating func remove(slot: Int32) {
        let order = orders[Int(slot)]
        let level = order.level
        if order.prev >= 0 { orders[Int(order.prev)].next = order.next } else { levels[Int(level)].head = order.next }
        if order.next >= 0 { orders[Int(order.next)].prev = order.prev } else { levels[Int(level)].tail = order.prev }
        levels[Int(level)].count &-= 1
        levels[Int(level)].total &-= order.remaining
        index.remove(order.id)
        orders[Int(slot)].next = freeOrder
        freeOrder = slot
        if levels[Int(level)].count == 0 { removeLevel(level, price: order.price, side: order.side) }
    }

    mutating func removeLevel(_ level: Int32, price: Int64, side: Side) {
        if side == .buy { bids.remove(key: price) } else { asks.remove(key: -price) }
        levels[Int(level)].head = freeLevel
        freeLevel = level
    }
}
