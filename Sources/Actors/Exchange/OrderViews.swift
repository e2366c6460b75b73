import Trading

/// A client's order request, already parsed onto the market's grid by the API.
public struct OrderRequest: Sendable, Hashable {
    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var quantity: Quantity
    public var price: Price?
    public var stopPrice: Price?
    public var timeInForce: TimeInForce
    public var postOnly: Bool
    public var clientOrderID: String?

    public init(
        symbol: String, side: Side, type: OrderType, quantity: Quantity, price: Price? = nil, stopPrice: Price? = nil,
        timeInForce: TimeInForce = .gtc, postOnly: Bool = false, clientOrderID: String? = nil
    ) {
        self.symbol = symbol
        self.side = side
        self.type = type
        self.quantity = quantity
        self.price = price
        self.stopPrice = stopPrice
        self.timeInForce = timeInForce
        self.postOnly = postOnly
        self.clientOrderID = clientOrderID
    }
}

public enum OrderStatus: String, Sendable, Hashable, CaseIterable {
    case new
    case partiallyFilled = "partially_filled"
    case filled
    case cancelled
    case rejected
    case pendingTrigger = "pending_trigger"

    /// Open orders can still trade or be cancelled.
    public var isOpen: Bool { self == .new || self == .partiallyFilled || self == .pendingTrigger }
}

public struct OrderFill: Sendable, Hashable {
    public var tradeID: UInt64
    public var price: Price
    public var quantity: Quantity
    public var fee: Amount
    public var feeCurrency: String
    public var liquidity: LiquidityRole
    public var timestampMillis: Int64
    public init(
        tradeID: UInt64, price: Price, quantity: Quantity, fee: Amount, feeCurrency: String,
        liquidity: LiquidityRole, timestampMillis: Int64
    ) {
        self.tradeID = tradeID
        self.price = price
        self.quantity = quantity
        self.fee = fee
        self.feeCurrency = feeCurrency
        self.liquidity = liquidity
        self.timestampMillis = timestampMillis
    }
}

/// An order as the client sees it.
public struct OrderView: Sendable, Hashable {
    public var orderID: OrderID
    public var clientOrderID: String?
    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var price: Price?
    public var stopPrice: Price?
    public var quantity: Quantity
    public var filledQuantity: Quantity
    /// Σ price × quantity of the fills, in quote units (average price = filledNotional / filled).
    public var filledNotional: Amount
    public var status: OrderStatus
    public var timeInForce: TimeInForce
    public var postOnly: Bool
    /// Why it was rejected, for `rejected` orders.
    public var rejectReason: RejectReason?
    public var createdAtMillis: Int64
    public var updatedAtMillis: Int64
    public var fills: [OrderFill]

    public init(
        orderID: OrderID, clientOrderID: String?, symbol: String, side: Side, type: OrderType, price: Price?,
        stopPrice: Price?, quantity: Quantity, filledQuantity: Quantity, filledNotional: Amount, status: OrderStatus,
        timeInForce: TimeInForce, postOnly: Bool, rejectReason: RejectReason?, createdAtMillis: Int64,
        updatedAtMillis: Int64, fills: [OrderFill]
    ) {
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.symbol = symbol
        self.side = side
        self.type = type
        self.price = price
        self.stopPrice = stopPrice
        self.quantity = quantity
        self.filledQuantity = filledQuantity
        self.filledNotional = filledNotional
        self.status = status
        self.timeInForce = timeInForce
        self.postOnly = postOnly
        self.rejectReason = rejectReason
        self.createdAtMillis = createdAtMillis
        self.updatedAtMillis = updatedAtMillis
        self.fills = fills
    }

    public var remainingQuantity: Quantity {
        status.isOpen ? Quantity(lots: quantity.lots - filledQuantity.lots) : .zero
    }
}

public struct OrderFilter: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable { case open, closed, all }
    public var status: Status
    public var symbol: String?
    public var limit: Int
    public init(status: Status = .all, symbol: String? = nil, limit: Int = 100) {
        self.status = status
        self.symbol = symbol
        self.limit = limit
    }
}

/// One of the caller's fills.
public struct UserTrade: Sendable, Hashable {
    public var tradeID: UInt64
    public var orderID: OrderID
    public var symbol: String
    public var side: Side
    public var price: Price
    public var quantity: Quantity
    public var fee: Amount
    public var feeCurrency: String
    public var liquidity: LiquidityRole
    public var timestampMillis: Int64
    public init(
        tradeID: UInt64, orderID: OrderID, symbol: String, side: Side, price: Price, quantity: Quantity, fee: Amount,
        feeCurrency: String, liquidity: LiquidityRole, timestampMillis: Int64
    ) {
        self.tradeID = tradeID
        self.orderID = orderID
        self.symbol = symbol
        self.side = side
        self.price = price
        self.quantity = quantity
        self.fee = fee
        self.feeCurrency = feeCurrency
        self.liquidity = liquidity
        self.timestampMillis = timestampMillis
    }
}
