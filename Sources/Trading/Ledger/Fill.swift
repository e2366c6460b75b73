/// Identifies one fill: a trade of one market. Trade ids are unique per market, so the pair is
/// unique everywhere; settlement is idempotent by this id.
public struct FillID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var symbol: String
    public var tradeID: UInt64

    public init(symbol: String, tradeID: UInt64) {
        self.symbol = symbol
        self.tradeID = tradeID
    }

    /// "SYMBOL:trade", the `reference_id` of the rows a fill produces.
    public var description: String { "\(symbol):\(tradeID)" }

    /// Canonical order: by symbol (UTF-8 bytes), then trade id.
    public static func < (lhs: FillID, rhs: FillID) -> Bool {
        if lhs.symbol != rhs.symbol { return lhs.symbol.utf8.lexicographicallyPrecedes(rhs.symbol.utf8) }
        return lhs.tradeID < rhs.tradeID
    }
}

/// Whether this side of a trade rested in the book (maker) or arrived and took liquidity (taker).
public enum LiquidityRole: UInt8, Hashable, Sendable, CaseIterable {
    case maker = 0
    case taker = 1

    /// The API's spelling.
    public var name: String { self == .maker ? "maker" : "taker" }
}

/// One account's side of one trade, as the ledger settles it.
public struct Fill: Hashable, Sendable {
    public var tradeID: UInt64
    /// The account's order that traded.
    public var orderID: OrderID
    /// The account that owns the order; the ledger refuses a fill of another owner.
    public var owner: UserID
    public var side: Side
    /// The trade price (the maker's price).
    public var price: Price
    public var quantity: Quantity
    public var liquidity: LiquidityRole
    /// The market: grid, currencies and fee rates.
    public var spec: MarketSpec

    public init(
        tradeID: UInt64, orderID: OrderID, owner: UserID, side: Side, price: Price, quantity: Quantity,
        liquidity: LiquidityRole, spec: MarketSpec
    ) {
        self.tradeID = tradeID
        self.orderID = orderID
        self.owner = owner
        self.side = side
        self.price = price
        self.quantity = quantity
        self.liquidity = liquidity
        self.spec = spec
    }

    /// `(spec.symbol, tradeID)`.
    public var id: FillID { FillID(symbol: spec.symbol, tradeID: tradeID) }

    /// The fee rate that applies to this fill's role, in basis points.
    public var feeBps: Int64 { liquidity == .maker ? spec.makerFeeBps : spec.takerFeeBps }

    /// The two sides of a trade of the book of `spec`: the maker's fill and the taker's fill.
    public static func sides(of trade: Trade, spec: MarketSpec) -> (maker: Fill, taker: Fill) {
        let maker = Fill(
            tradeID: trade.id, orderID: trade.makerOrderID, owner: trade.makerOwner, side: trade.takerSide.opposite,
            price: trade.price, quantity: trade.quantity, liquidity: .maker, spec: spec)
        let taker = Fill(
            tradeID: trade.id, orderID: trade.takerOrderID, owner: trade.takerOwner, side: trade.takerSide,
            price: trade.price, quantity: trade.quantity, liquidity: .taker, spec: spec)
        return (maker, taker)
    }
}

/// What settling a fill did.
public struct Settlement: Hashable, Sendable {
    /// False when the fill had already been applied: nothing changed.
    public var applied: Bool
    /// The fee charged by this fill, in `feeCurrency` (the market's quote currency).
    public var fee: Amount
    public var feeCurrency: String
    /// P&L realised by a sell fill (net of its fee); zero for buys.
    public var realizedPnL: Amount
    /// True when the order's remaining quantity reached zero and its reservation was released.
    public var orderClosed: Bool

    public init(applied: Bool, fee: Amount, feeCurrency: String, realizedPnL: Amount, orderClosed: Bool) {
        self.applied = applied
        self.fee = fee
        self.feeCurrency = feeCurrency
        self.realizedPnL = realizedPnL
        self.orderClosed = orderClosed
    }
}
