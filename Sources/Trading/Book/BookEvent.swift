/// Why the book refused a command. A rejected command changes nothing but the event sequence.
public enum RejectReason: UInt8, Sendable, Hashable, CaseIterable {
    /// Structurally invalid: non-positive or out-of-range quantity or price, a price missing or
    /// present where the type forbids it, post-only on a non-limit order, FOK on a stop order, ….
    case invalidOrder = 0
    case duplicateOrderID = 1
    /// Post-only order (or post-only amend) whose price would take liquidity.
    case postOnlyWouldCross = 2
    /// Fill-or-kill order that cannot trade its whole quantity now.
    case fillOrKillUnfillable = 3
    /// Market order with no opposite order within its protection price.
    case noLiquidity = 4
    /// Cancel or amend of an order that is not in the book.
    case unknownOrder = 5
    /// Amend that is not allowed: a stop order, a quantity at or below the filled quantity, no change.
    case invalidAmend = 6
}

public enum CancelReason: UInt8, Sendable, Hashable, CaseIterable {
    /// Cancelled by its owner.
    case user = 0
    /// Resting order cancelled because its owner's incoming order would have traded with it.
    case selfTrade = 1
}

/// One execution: the taker (incoming) order traded with the maker (resting) order at the maker's price.
public struct Trade: Sendable, Hashable {
    /// Per-book trade number, starting at 1.
    public var id: UInt64
    public var price: Price
    public var quantity: Quantity
    public var takerSide: Side
    public var makerOrderID: OrderID
    public var makerOwner: UserID
    /// What is left of the maker order after this trade (0: filled and removed).
    public var makerRemaining: Quantity
    public var takerOrderID: OrderID
    public var takerOwner: UserID
    /// What is left of the taker order after this trade.
    public var takerRemaining: Quantity

    public init(
        id: UInt64, price: Price, quantity: Quantity, takerSide: Side, makerOrderID: OrderID, makerOwner: UserID,
        makerRemaining: Quantity, takerOrderID: OrderID, takerOwner: UserID, takerRemaining: Quantity
    ) {
        self.id = id
        self.price = price
        self.quantity = quantity
        self.takerSide = takerSide
        self.makerOrderID = makerOrderID
        self.makerOwner = makerOwner
        self.makerRemaining = makerRemaining
        self.takerOrderID = takerOrderID
        self.takerOwner = takerOwner
        self.takerRemaining = takerRemaining
    }
}

/// What happened, in order. Every event carries the book's next sequence number.
public struct BookEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The order entered the book (a stop order: entered the book of untriggered stops).
        case accepted(OrderID)
        case rejected(OrderID, RejectReason)
        case trade(Trade)
        /// The order left the book unfilled by `remaining`.
        case cancelled(OrderID, remaining: Quantity, reason: CancelReason)
        /// The unfilled part of an IOC, FOK-remainder or market order, removed after matching.
        case expired(OrderID, remaining: Quantity)
        /// A stop order's condition was met; it enters the book next, in trigger order.
        case triggered(OrderID)
        /// A resting order now has this price, total quantity and remaining quantity.
        case amended(OrderID, price: Price, quantity: Quantity, remaining: Quantity)
    }

    public var sequence: UInt64
    public var kind: Kind

    public init(sequence: UInt64, kind: Kind) {
        self.sequence = sequence
        self.kind = kind
    }
}

extension BookEvent {
    /// The orders this event concerns: maker and taker of a trade, otherwise the one order named.
    public var orderIDs: [OrderID] {
        switch kind {
        case .trade(let trade):
            trade.makerOrderID == trade.takerOrderID ? [trade.makerOrderID] : [trade.makerOrderID, trade.takerOrderID]
        case .accepted(let id), .rejected(let id, _), .cancelled(let id, _, _), .expired(let id, _), .triggered(let id),
            .amended(let id, _, _, _):
            [id]
        }
    }
}
