/// Identifies a reservation: an order of a market. Order ids are unique within a market, so the
/// symbol is part of the key.
public struct ReservationKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var symbol: String
    public var orderID: OrderID

    public init(symbol: String, orderID: OrderID) {
        self.symbol = symbol
        self.orderID = orderID
    }

    public var description: String { "\(symbol)/\(orderID)" }

    /// Canonical order: by symbol (UTF-8 bytes), then order id.
    public static func < (lhs: ReservationKey, rhs: ReservationKey) -> Bool {
        if lhs.symbol != rhs.symbol { return lhs.symbol.utf8.lexicographicallyPrecedes(rhs.symbol.utf8) }
        return lhs.orderID < rhs.orderID
    }
}

/// The funds an open order holds, and the running totals its fills need.
///
/// A sell holds exactly the base quantity still to sell. A buy holds, in the quote currency, the
/// remaining quantity at its reservation price plus the most fee its remaining fills can still cost:
///
///     locked = notional(price, remaining) + ceil((feeNumerator + notional(price, remaining) × maxFeeBps) / 10 000) − feeCharged
///
/// where `feeNumerator` = Σ notionalᵢ × bpsᵢ over the order's fills and `feeCharged` =
/// ceil(feeNumerator / 10 000). Fills at or below the reservation price, at a rate at most
/// `maxFeeBps`, can never cost more than this, so a buyer's locked funds always cover its fills.
public struct Reservation: Hashable, Sendable {
    public let orderID: OrderID
    /// The market the order trades in, as it was when the order was reserved.
    public let spec: MarketSpec
    public let side: Side
    public let type: OrderType
    /// Buy: the price the reservation covers (limit price, or the protection price of a market or
    /// stop order). Sell: the limit price if any (informational).
    public internal(set) var price: Price?
    /// Quantity still to fill.
    public internal(set) var remaining: Quantity
    /// Funds held, in `currency`.
    public internal(set) var locked: Amount
    /// The fee rate the reservation covers: max(maker, taker) of the spec.
    public let maxFeeBps: Int64
    /// Σ notionalᵢ × bpsᵢ over this order's fills (exact, before any rounding).
    public internal(set) var feeNumerator: Int128
    /// Fees charged so far: ceil(feeNumerator / 10 000), in the quote currency.
    public internal(set) var feeCharged: Amount
    public internal(set) var filledQuantity: Quantity
    /// Σ notional of the fills, in the quote currency.
    public internal(set) var filledNotional: Amount

    init(
        orderID: OrderID, spec: MarketSpec, side: Side, type: OrderType, price: Price?, remaining: Quantity,
        locked: Amount, maxFeeBps: Int64, feeNumerator: Int128 = 0, feeCharged: Amount = .zero,
        filledQuantity: Quantity = .zero, filledNotional: Amount = .zero
    ) {
        self.orderID = orderID
        self.spec = spec
        self.side = side
        self.type = type
        self.price = price
        self.remaining = remaining
        self.locked = locked
        self.maxFeeBps = maxFeeBps
        self.feeNumerator = feeNumerator
        self.feeCharged = feeCharged
        self.filledQuantity = filledQuantity
        self.filledNotional = filledNotional
    }

    public var key: ReservationKey { ReservationKey(symbol: spec.symbol, orderID: orderID) }

    /// The currency held: quote for a buy, base for a sell.
    public var currency: String { side == .buy ? spec.quote : spec.base }

    /// What must be locked for `remaining` at `price` given the fees already accumulated.
    func requiredLock(price: Price?, remaining: Quantity, feeNumerator: Int128) throws(BourseError) -> Amount {
        try Reservation.requiredLock(
            spec: spec, side: side, price: price, remaining: remaining, maxFeeBps: maxFeeBps,
            feeNumerator: feeNumerator)
    }

    static func requiredLock(
        spec: MarketSpec, side: Side, price: Price?, remaining: Quantity, maxFeeBps: Int64, feeNumerator: Int128
    ) throws(BourseError) -> Amount {
        switch side {
        case .sell:
            return try spec.amount(of: remaining)
        case .buy:
            guard let price else { throw BourseError(.internal, "buy reservation without a price") }
            let notional = try spec.notional(price, remaining)
            let bound = try FeeMath.feeDue(numerator: FeeMath.adding(feeNumerator, notional: notional, bps: maxFeeBps))
            let charged = try FeeMath.feeDue(numerator: feeNumerator)
            return try notional.adding(bound.subtracting(charged))
        }
    }
}

/// Cumulative fee arithmetic: fees are kept as an exact numerator Σ notional × bps and charged as
/// its ceiling over 10 000, so rounding up happens once per order, not once per fill.
enum FeeMath {
    static let bpsDenominator: Int128 = 10_000

    /// ceil(numerator / 10 000) as an amount; the numerator is never negative.
    static func feeDue(numerator: Int128) throws(BourseError) -> Amount {
        guard numerator >= 0 else { throw BourseError(.internal, "negative fee numerator") }
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: bpsDenominator)
        guard let units = Int64(exactly: remainder == 0 ? quotient : quotient + 1) else { throw .overflow("fee") }
        return Amount(units: units)
    }

    /// The numerator after adding `notional × bps`, checked.
    static func adding(_ numerator: Int128, notional: Amount, bps: Int64) throws(BourseError) -> Int128 {
        let (sum, overflow) = numerator.addingReportingOverflow(Int128(notional.units) * Int128(bps))
        if overflow { throw .overflow("fee") }
        return sum
    }
}
