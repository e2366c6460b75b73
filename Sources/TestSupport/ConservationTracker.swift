import Trading

/// Follows every order through the events of a book and checks that no quantity appears or vanishes.
///
/// For every order: quantity placed (or as last amended) = filled + remaining, where the remaining part is
/// still resting (or waiting as a stop), or was cancelled, expired, or rejected on entry after its trigger.
/// Every `remaining` an event reports must agree, and all trades' buy side must equal their sell side.
public struct ConservationTracker: Sendable {
    enum State: Sendable, Equatable {
        /// An untriggered stop order.
        case stop
        /// Triggered during the current command and not yet rested, filled, expired or rejected.
        case triggered
        /// Resting, or being matched as a new order.
        case live
    }

    struct Record: Sendable {
        var side: Side
        var total: Int64
        var filled: Int64 = 0
        var state: State
        var remaining: Int64 { total - filled }
    }

    /// Open orders only: a record is removed when its order ends.
    var records: [OrderID: Record] = [:]
    /// Lots of every accepted order, plus what amends added (minus what they removed).
    public private(set) var placed: Int64 = 0
    /// Lots bought and sold, each counted from the side of the order that traded them.
    public private(set) var bought: Int64 = 0
    public private(set) var sold: Int64 = 0
    /// Lots that left the book unfilled: cancelled, expired, or rejected on entry after a trigger.
    public private(set) var unfilled: Int64 = 0

    public init() {}

    /// Checks the events of one command; returns a description of the first violation, if any.
    public mutating func record(_ command: BookCommand, _ events: [BookEvent]) -> String? {
        var triggered: [OrderID] = []
        for event in events {
            if case .triggered(let id) = event.kind { triggered.append(id) }
            if let problem = record(command, event.kind) { return "event #\(event.sequence) \(event.kind): \(problem)" }
        }
        // Triggered orders still open after the command rest on the book.
        for id in triggered where records[id]?.state == .triggered {
            records[id]!.state = .live
        }
        if bought != sold { return "bought \(bought) ≠ sold \(sold)" }
        return nil
    }

    /// Checks the open orders against a book's resting orders and stop order ids, and the lot totals.
    public func check(resting: [(id: OrderID, quantity: Quantity, remaining: Quantity)], stops: [OrderID])
        -> String?
    {
        var unmatched = records
        for order in resting {
            guard let record = unmatched.removeValue(forKey: order.id), record.state == .live else {
                return "order \(order.id) rests but is not open as a live order"
            }
            if order.quantity.lots != record.total || order.remaining.lots != record.remaining {
                return "order \(order.id) rests with \(order.remaining)/\(order.quantity), expected "
                    + "\(record.remaining)/\(record.total)"
            }
        }
        for id in stops {
            guard let record = unmatched.removeValue(forKey: id), record.state == .stop else {
                return "stop \(id) waits but is not open as a stop"
            }
        }
        if let (id, record) = unmatched.first { return "order \(id) is open (\(record.state)) but not in the book" }
        let openLots = records.values.reduce(0) { $0 + $1.remaining }
        if placed != bought + sold + unfilled + openLots {
            return "placed \(placed) ≠ bought \(bought) + sold \(sold) + unfilled \(unfilled) + open \(openLots)"
        }
        return nil
    }

    private mutating func record(_ command: BookCommand, _ kind: BookEvent.Kind) -> String? {
        switch kind {
        case .accepted(let id):
            guard case .place(let order) = command, order.id == id else { return "accepted without its placement" }
            if records[id] != nil { return "accepted while still open" }
            let isStop = order.type == .stop || order.type == .stopLimit
            records[id] = Record(side: order.side, total: order.quantity.lots, state: isStop ? .stop : .live)
            placed += order.quantity.lots
        case .triggered(let id):
            guard records[id]?.state == .stop else { return "triggered but not a waiting stop" }
            records[id]!.state = .triggered
        case .trade(let trade):
            if trade.quantity.lots <= 0 { return "non-positive trade quantity" }
            if trade.makerOwner == trade.takerOwner { return "self-trade" }
            if let problem = fill(trade.makerOrderID, trade.takerSide.opposite, trade.quantity, trade.makerRemaining) {
                return "maker: \(problem)"
            }
            if let problem = fill(trade.takerOrderID, trade.takerSide, trade.quantity, trade.takerRemaining) {
                return "taker: \(problem)"
            }
        case .cancelled(let id, let remaining, _), .expired(let id, let remaining):
            guard let record = records[id], record.state != .triggered || isExpiry(kind) else { return "not open" }
            if remaining.lots != record.remaining { return "remaining \(remaining.lots), expected \(record.remaining)" }
            if remaining.lots <= 0 { return "nothing left to remove" }
            unfilled += remaining.lots
            records[id] = nil
        case .amended(let id, _, let quantity, let remaining):
            guard let record = records[id], record.state == .live else { return "not resting" }
            if remaining.lots != quantity.lots - record.filled || remaining.lots <= 0 {
                return "remaining \(remaining.lots) for total \(quantity.lots) with \(record.filled) filled"
            }
            placed += quantity.lots - record.total
            records[id]!.total = quantity.lots
        case .rejected(let id, _):
            // Only a triggered order's failed entry ends an order; other rejections change nothing.
            if let record = records[id], record.state == .triggered {
                unfilled += record.remaining
                records[id] = nil
            }
        }
        return nil
    }

    private func isExpiry(_ kind: BookEvent.Kind) -> Bool {
        if case .expired = kind { return true }
        return false
    }

    private mutating func fill(_ id: OrderID, _ side: Side, _ quantity: Quantity, _ remaining: Quantity) -> String? {
        guard var record = records[id], record.state != .stop else { return "order \(id) is not open" }
        if record.side != side { return "order \(id) is a \(record.side) order" }
        record.filled += quantity.lots
        record.state = .live
        if record.filled > record.total { return "order \(id) overfilled" }
        if remaining.lots != record.remaining {
            return "order \(id) remaining \(remaining.lots), expected \(record.remaining)"
        }
        if side == .buy { bought += quantity.lots } else { sold += quantity.lots }
        records[id] = record.remaining == 0 ? nil : record
        return nil
    }
}
