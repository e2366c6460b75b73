import Trading

/// Following the book: which orders the stream's cancels and amends can target.
extension RandomCommandStream {
    /// Updates what the stream knows from the events of the command it produced last.
    public mutating func observe(_ events: [BookEvent]) {
        var triggered: Set<OrderID> = []
        for event in events {
            switch event.kind {
            case .accepted(let id):
                guard let order = pendingPlacement, order.id == id else { continue }
                let isStop = order.type == .stop || order.type == .stopLimit
                let price = order.type == .limit || order.type == .stopLimit ? order.price : nil
                addLive(
                    id, LiveOrder(side: order.side, price: price, quantity: order.quantity, filled: 0, isStop: isStop))
            case .triggered(let id):
                live[id]?.isStop = false
                triggered.insert(id)
            case .trade(let trade):
                live[trade.makerOrderID]?.filled += trade.quantity.lots
                live[trade.takerOrderID]?.filled += trade.quantity.lots
                if trade.makerRemaining.lots == 0 { finish(trade.makerOrderID) }
                if trade.takerRemaining.lots == 0 { finish(trade.takerOrderID) }
            case .cancelled(let id, _, _), .expired(let id, _):
                finish(id)
            case .amended(let id, let price, let quantity, _):
                live[id]?.price = price
                live[id]?.quantity = quantity
            case .rejected(let id, _):
                // A triggered order that fails entry is gone; other rejections change nothing.
                if triggered.contains(id) { finish(id) }
            }
        }
        pendingPlacement = nil
    }

    mutating func addLive(_ id: OrderID, _ order: LiveOrder) {
        if live[id] == nil {
            positions[id] = liveIDs.count
            liveIDs.append(id)
        }
        live[id] = order
    }

    mutating func finish(_ id: OrderID) {
        guard live.removeValue(forKey: id) != nil, let position = positions.removeValue(forKey: id) else { return }
        let last = liveIDs.removeLast()
        if last != id {
            liveIDs[position] = last
            positions[last] = position
        }
        if finishedIDs.count < 1_000 {
            finishedIDs.append(id)
        } else {
            finishedIDs[finishedCursor % 1_000] = id
            finishedCursor += 1
        }
    }
}
