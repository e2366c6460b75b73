/// Snapshot encoding: the whole book state in a versioned binary layout.
///
/// Restoring a snapshot and continuing gives the same events and `stateHash` as never stopping.
/// Decoding validates everything it reads, so a corrupt snapshot is an error, never a trap or a
/// book that breaks its invariants.
extension OrderBook {
    static let snapshotMagic: [UInt8] = Array("BBK1".utf8)

    public func snapshot() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 64 + index.count * 41 + stops.count * 64)
        writer.writeRaw(OrderBook.snapshotMagic)
        writer.write(protectionBps)
        writer.write(sequence)
        writer.write(nextTradeID)
        writer.write(lastTradePrice != nil)
        writer.write(lastTradePrice?.ticks ?? 0)
        for side in [Side.buy, .sell] {
            writer.writeCount((side == .buy ? bids : asks).count(in: levels))
            forEachResting(side) { order in
                writer.write(order.id)
                writer.write(order.owner)
                writer.write(order.price)
                writer.write(order.quantity)
                writer.write(order.remaining)
                writer.write(order.postOnly)
            }
        }
        writer.writeCount(buyStops.count + sellStops.count)
        for stop in buyStops + sellStops {
            let order = stop.order
            writer.write(order.id)
            writer.write(order.owner)
            writer.write(order.side.rawValue)
            writer.write(order.type.rawValue)
            writer.write(order.stopPrice?.ticks ?? 0)
            writer.write(order.price != nil)
            writer.write(order.price?.ticks ?? 0)
            writer.write(order.quantity.lots)
            writer.write(order.timeInForce.rawValue)
            writer.write(order.postOnly)
            writer.write(stop.acceptKey)
        }
        return writer.bytes
    }

    public init(snapshot bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        guard try reader.readRaw(count: 4) == OrderBook.snapshotMagic else { throw corrupt("not a book snapshot") }
        let protectionBps = try reader.readInt64()
        guard protectionBps >= 0, protectionBps < 10_000 else { throw corrupt("protection bps") }
        self.init(protectionBps: protectionBps)
        sequence = try reader.readUInt64()
        nextTradeID = try reader.readUInt64()
        let hasLast = try reader.readBool()
        let last = try reader.readInt64()
        if hasLast {
            guard (1...MarketSpec.maxTicks).contains(last) else { throw corrupt("last trade price") }
            lastTradePrice = Price(ticks: last)
        }
        for side in [Side.buy, .sell] {
            let count = try reader.readCount(minimumElementSize: 41)
            var previousKey = Int64.max
            for _ in 0..<count {
                let id = try reader.readUInt64()
                let owner = try reader.readUInt64()
                let price = try reader.readInt64()
                let quantity = try reader.readInt64()
                let remaining = try reader.readInt64()
                let postOnly = try reader.readBool()
                // Best first: keys must not increase.
                let key = OrderBook.key(price, side)
                guard (1...MarketSpec.maxTicks).contains(price), (1...MarketSpec.maxLots).contains(quantity),
                    (1...quantity).contains(remaining), key <= previousKey, index.find(id) < 0
                else { throw corrupt("resting order \(id)") }
                previousKey = key
                rest(
                    id: id, owner: owner, side: side, price: price, quantity: quantity, remaining: remaining,
                    postOnly: postOnly)
            }
        }
        if let bid = bestBid, let ask = bestAsk, bid >= ask { throw corrupt("crossed book") }
        let stopCount = try reader.readCount(minimumElementSize: 53)
        for _ in 0..<stopCount {
            let id = try reader.readUInt64()
            let owner = try reader.readUInt64()
            let side = Side(rawValue: try reader.readUInt8())
            let type = OrderType(rawValue: try reader.readUInt8())
            let stopPrice = try reader.readInt64()
            let hasPrice = try reader.readBool()
            let price = try reader.readInt64()
            let quantity = try reader.readInt64()
            let timeInForce = TimeInForce(rawValue: try reader.readUInt8())
            let postOnly = try reader.readBool()
            let acceptKey = try reader.readUInt64()
            guard let side, let type, let timeInForce, type == .stop || type == .stopLimit else {
                throw corrupt("stop order \(id)")
            }
            let order = NewOrder(
                id: id, owner: owner, side: side, type: type, price: hasPrice ? Price(ticks: price) : nil,
                stopPrice: Price(ticks: stopPrice), quantity: Quantity(lots: quantity), timeInForce: timeInForce,
                postOnly: postOnly)
            guard OrderBook.isValid(order), index.find(id) < 0, stops[id] == nil, acceptKey <= sequence else {
                throw corrupt("stop order \(id)")
            }
            addStop(StopOrder(order: order, acceptKey: acceptKey))
        }
        try reader.expectEnd()
    }
}

private func corrupt(_ what: String) -> BourseError { BourseError(.validation, "corrupt book snapshot: \(what)") }
