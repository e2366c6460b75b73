import Trading

/// A deliberately simple order book with exactly the semantics of docs/matching.md.
///
/// It exists to check the fast `OrderBook`: both must emit the same events and reach the same `stateHash`
/// for any command stream. Everything here favours being obviously correct over being fast: resting orders
/// are plain arrays kept in priority order, stop orders a plain array in acceptance order, and every
/// question ("what is the best ask?", "which stops are eligible?") is answered by a scan or a sort.
public struct ReferenceBook: Sendable {
    /// A resting limit order.
    struct Order: Sendable, Equatable {
        var id: OrderID
        var owner: UserID
        var side: Side
        var price: Price
        /// Total quantity, including what has filled.
        var quantity: Quantity
        var remaining: Quantity
        var postOnly: Bool
    }

    /// An untriggered stop or stop-limit order.
    struct Stop: Sendable, Equatable {
        var order: NewOrder
        /// The sequence number of the stop's `accepted` event.
        var acceptanceKey: UInt64

        var stopPrice: Price { order.stopPrice! }
    }

    /// Resting bids, in priority order: price descending, then time of arrival at that price.
    var bids: [Order] = []
    /// Resting asks, in priority order: price ascending, then time of arrival at that price.
    var asks: [Order] = []
    /// Untriggered stop orders, in acceptance order.
    var stops: [Stop] = []
    /// Events emitted by the command being applied.
    var pending: [BookEvent] = []

    /// Price of the most recent trade; `nil` until the first trade.
    public internal(set) var lastTradePrice: Price?
    /// Sequence number of the last emitted event; 0 initially.
    public internal(set) var sequence: UInt64 = 0
    /// The id the next trade will take; 1 initially.
    public internal(set) var nextTradeID: UInt64 = 1
    /// Protection of market orders without a price, in basis points through the best opposite price.
    public let protectionBps: Int64

    /// An empty book. `protectionBps` is configuration (default 5%), not state: it is not hashed.
    public init(protectionBps: Int64 = 500) {
        self.protectionBps = protectionBps
    }

    /// Applies one command and returns its events, numbered from `sequence + 1`.
    public mutating func apply(_ command: BookCommand) -> [BookEvent] {
        pending = []
        switch command {
        case .place(let order): place(order)
        case .cancel(let id): cancel(id)
        case .amend(let id, let price, let quantity): amend(id, price: price, quantity: quantity)
        }
        let events = pending
        pending = []
        return events
    }

    /// Appends an event with the next sequence number.
    mutating func emit(_ kind: BookEvent.Kind) {
        sequence += 1
        pending.append(BookEvent(sequence: sequence, kind: kind))
    }

    // MARK: Queries

    /// The resting orders of one side, in priority order (best price first, oldest first within a price).
    func orders(_ side: Side) -> [Order] {
        side == .buy ? bids : asks
    }

    /// Highest resting bid price, if any.
    public var bestBid: Price? { bids.first?.price }
    /// Lowest resting ask price, if any.
    public var bestAsk: Price? { asks.first?.price }

    /// The best resting price of `side`, if any.
    func bestPrice(_ side: Side) -> Price? {
        side == .buy ? bestBid : bestAsk
    }

    /// Up to `levels` price levels of `side`, best first, each with the total remaining quantity resting there.
    public func depth(_ side: Side, levels: Int) -> [(price: Price, quantity: Quantity)] {
        var result: [(price: Price, quantity: Quantity)] = []
        for order in orders(side) {
            if let last = result.last, last.price == order.price {
                result[result.count - 1].quantity.lots += order.remaining.lots
            } else {
                if result.count >= levels { break }
                result.append((order.price, order.remaining))
            }
        }
        return result
    }

    /// Every resting order: bids best first, then asks best first; oldest first within a price.
    public var restingOrders:
        [(id: OrderID, owner: UserID, side: Side, price: Price, quantity: Quantity, remaining: Quantity)]
    {
        (bids + asks).map { ($0.id, $0.owner, $0.side, $0.price, $0.quantity, $0.remaining) }
    }

    /// Every untriggered stop order: buy stops in trigger order, then sell stops in trigger order.
    public var stopOrders: [NewOrder] {
        stopsInTriggerOrder(.buy).map(\.order) + stopsInTriggerOrder(.sell).map(\.order)
    }

    /// The stops of one side in trigger order: buys by stop price ascending, sells by stop price descending,
    /// then by acceptance key.
    func stopsInTriggerOrder(_ side: Side) -> [Stop] {
        stops.filter { $0.order.side == side }.sorted { a, b in
            if a.stopPrice != b.stopPrice {
                return side == .buy ? a.stopPrice < b.stopPrice : a.stopPrice > b.stopPrice
            }
            return a.acceptanceKey < b.acceptanceKey
        }
    }

    // MARK: State hash

    /// The hash of the whole state, fed to `StateHasher` exactly as docs/matching.md ("State hash") lists it.
    public var stateHash: UInt64 {
        var hasher = StateHasher()
        hasher.combine(sequence)
        hasher.combine(nextTradeID)
        hasher.combine(lastTradePrice != nil)
        hasher.combine(lastTradePrice?.ticks ?? 0)
        for side in [Side.buy, .sell] {
            let orders = orders(side)
            hasher.combine(UInt64(orders.count))
            for order in orders {
                hasher.combine(order.id)
                hasher.combine(order.owner)
                hasher.combine(order.price.ticks)
                hasher.combine(order.quantity.lots)
                hasher.combine(order.remaining.lots)
                hasher.combine(order.postOnly)
            }
        }
        for side in [Side.buy, .sell] {
            let stops = stopsInTriggerOrder(side)
            hasher.combine(UInt64(stops.count))
            for stop in stops {
                let order = stop.order
                hasher.combine(order.id)
                hasher.combine(order.owner)
                hasher.combine(UInt64(order.side.rawValue))
                hasher.combine(UInt64(order.type.rawValue))
                hasher.combine(stop.stopPrice.ticks)
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
