/// Identifiers and enumerations shared by the order book, the ledger and the API.

/// An order id, unique within a market; assigned by the sequencer before the book sees the order.
public typealias OrderID = UInt64
/// A user id; the book only compares owners (self-trade prevention).
public typealias UserID = UInt64

public enum Side: UInt8, Sendable, Hashable, CaseIterable {
    case buy = 0
    case sell = 1

    @inlinable public var opposite: Side { self == .buy ? .sell : .buy }
}

public enum OrderType: UInt8, Sendable, Hashable, CaseIterable {
    case limit = 0
    case market = 1
    /// Rests untriggered until the last trade price reaches `stopPrice`, then enters as a market order.
    case stop = 2
    /// Rests untriggered until the last trade price reaches `stopPrice`, then enters as a limit order.
    case stopLimit = 3
}

public enum TimeInForce: UInt8, Sendable, Hashable, CaseIterable {
    /// Good till cancelled: the unfilled part rests.
    case gtc = 0
    /// Immediate or cancel: the unfilled part expires.
    case ioc = 1
    /// Fill or kill: the whole quantity trades at once or the order is rejected and changes nothing.
    case fok = 2
}

/// A new order as the book receives it: already validated against the market's grid.
public struct NewOrder: Sendable, Hashable {
    public var id: OrderID
    public var owner: UserID
    public var side: Side
    public var type: OrderType
    /// Limit price (limit, stop-limit); protection price for market and stop orders (`nil`: derived
    /// from the best opposite price when the order reaches the book).
    public var price: Price?
    /// Trigger price of stop and stop-limit orders.
    public var stopPrice: Price?
    public var quantity: Quantity
    public var timeInForce: TimeInForce
    public var postOnly: Bool

    public init(
        id: OrderID, owner: UserID, side: Side, type: OrderType = .limit, price: Price?, stopPrice: Price? = nil,
        quantity: Quantity, timeInForce: TimeInForce = .gtc, postOnly: Bool = false
    ) {
        self.id = id
        self.owner = owner
        self.side = side
        self.type = type
        self.price = price
        self.stopPrice = stopPrice
        self.quantity = quantity
        self.timeInForce = timeInForce
        self.postOnly = postOnly
    }

    public static func limit(
        _ id: OrderID, owner: UserID, _ side: Side, price: Int64, quantity: Int64, tif: TimeInForce = .gtc,
        postOnly: Bool = false
    ) -> NewOrder {
        NewOrder(
            id: id, owner: owner, side: side, type: .limit, price: Price(ticks: price),
            quantity: Quantity(lots: quantity), timeInForce: tif, postOnly: postOnly)
    }
}

/// What the book is asked to do. Commands are applied one at a time, in sequence order.
public enum BookCommand: Sendable, Hashable {
    case place(NewOrder)
    case cancel(OrderID)
    /// Change a resting order's price and/or total quantity (`quantity` counts what has already filled).
    case amend(OrderID, price: Price?, quantity: Quantity?)
}
