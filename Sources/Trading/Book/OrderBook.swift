/// A price-time priority limit order book for one market: the pure, deterministic matching engine.
///
/// The book takes commands and returns events (`apply(_:)`); the same commands in the same order give the
/// same events and the same `stateHash`, byte for byte. docs/matching.md is the exact contract, and
/// `ReferenceBook` in TestSupport is a simple implementation of it that this one is checked against.
///
/// Layout, chosen to keep allocation and hashing off the hot path:
/// - resting orders live in a slot pool (`ContiguousArray<OrderSlot>` with a free list), linked into a FIFO
///   per price level by slot number; an `OrderIndex` maps order id → slot, so cancel is O(1);
/// - price levels live in a second pool; each side keeps its levels in a sorted array of keys with the best
///   price last, so the best bid/ask is O(1), matching pops from the end and new levels near the top of
///   the book move little memory;
/// - untriggered stop orders (rare) sit in a dictionary plus two arrays sorted in trigger order.
public struct OrderBook: Sendable {
    /// How far through the best opposite price a market order without an explicit protection price may
    /// trade, in basis points.
    public let protectionBps: Int64
    /// The sequence number of the last event.
    public internal(set) var sequence: UInt64 = 0
    /// The price of the last trade, which triggers stop orders.
    public internal(set) var lastTradePrice: Price?
    var nextTradeID: UInt64 = 1

    var orders: ContiguousArray<OrderSlot> = []
    var freeOrder: Int32 = -1
    var index: OrderIndex
    var levels: ContiguousArray<Level> = []
    var freeLevel: Int32 = -1
    /// Bids keyed by price, asks by −price: in both, ascending keys with the best level last.
    var bids = Ladder()
    var asks = Ladder()

    var stops: [OrderID: StopOrder] = [:]
    var buyStops: [StopOrder] = []
    var sellStops: [StopOrder] = []

    public init(protectionBps: Int64 = 500, expectedOrders: Int = 1024) {
        precondition(protectionBps >= 0 && protectionBps < 10_000)
        self.protectionBps = protectionBps
        index = OrderIndex(capacity: expectedOrders)
        orders.reserveCapacity(expectedOrders)
        levels.reserveCapacity(256)
    }

    /// Applies one command and returns its events.
    public mutating func apply(_ command: BookCommand) -> [BookEvent] {
        var events: [BookEvent] = []
        apply(command, into: &events)
        return events
    }

    /// Applies one command and appends its events to `events`, so that a caller can reuse one buffer
    /// (`removeAll(keepingCapacity: true)`) and keep allocation off the hot path.
    public mutating func apply(_ command: BookCommand, into events: inout [BookEvent]) {
        switch command {
        case .place(let order):
            place(order, &events)
        case .cancel(let id):
            cancel(id, &events)
        case .amend(let id, let price, let quantity):
            amend(id, price: price, quantity: quantity, &events)
        }
    }

    // MARK: - Queries

    public var bestBid: Price? { bids.keys.last.map { Price(ticks: $0) } }
    public var bestAsk: Price? { asks.keys.last.map { Price(ticks: -$0) } }
    /// Number of resting (triggered or plain) orders.
    public var restingCount: Int { index.count }
    /// Number of untriggered stop orders.
    public var stopCount: Int { stops.count }

    /// Aggregated depth: up to `levels` price levels of `side`, best first.
    public func depth(_ side: Side, levels count: Int) -> [(price: Price, quantity: Quantity)] {
        let ladder = side == .buy ? bids : asks
        var result: [(price: Price, quantity: Quantity)] = []
        result.reserveCapacity(min(count, ladder.keys.count))
        var position = ladder.keys.count - 1
        while position >= 0, result.count < count {
            let level = levels[Int(ladder.levels[position])]
            result.append((Price(ticks: level.price), Quantity(lots: level.total)))
            position -= 1
        }
        return result
    }

    /// A resting order by id.
    public func order(_ id: OrderID) -> RestingOrder? {
        let slot = index.find(id)
        return slot < 0 ? nil : RestingOrder(orders[Int(slot)])
    }

    /// An untriggered stop order by id.
    public func stopOrder(_ id: OrderID) -> NewOrder? { stops[id]?.order }

    /// All resting orders: bids best to worst, then asks best to worst, each level oldest first.
    public var restingOrders: [RestingOrder] {
        var result: [RestingOrder] = []
        result.reserveCapacity(index.count)
        forEachResting(.buy) { result.append(RestingOrder($0)) }
        forEachResting(.sell) { result.append(RestingOrder($0)) }
        return result
    }

    /// Untriggered stops in trigger order: buys, then sells.
    public var stopOrders: [NewOrder] { (buyStops + sellStops).map(\.order) }

    func forEachResting(_ side: Side, _ body: (OrderSlot) -> Void) {
        let ladder = side == .buy ? bids : asks
        var position = ladder.keys.count - 1
        while position >= 0 {
            var slot = levels[Int(ladder.levels[position])].head
            while slot >= 0 {
                body(orders[Int(slot)])
                slot = orders[Int(slot)].next
            }
            position -= 1
        }
    }
}

/// A resting order as seen from outside the book.
public struct RestingOrder: Sendable, Hashable {
    public var id: OrderID
    public var owner: UserID
    public var side: Side
    public var price: Price
    /// Total quantity, filled part included.
    public var quantity: Quantity
    public var remaining: Quantity
    public var postOnly: Bool

    public var filled: Quantity { Quantity(lots: quantity.lots - remaining.lots) }

    init(_ slot: OrderSlot) {
        id = slot.id
        owner = slot.owner
        side = slot.side
        price = Price(ticks: slot.price)
        quantity = Quantity(lots: slot.quantity)
        remaining = Quantity(lots: slot.remaining)
        postOnly = slot.postOnly
    }
}
