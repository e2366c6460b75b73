/// What an account holds of one market's base asset, bought through that market or deposited.
///
/// `costBasis` is what the held quantity cost in the quote currency, buy fees included, so the
/// average price is the weighted average cost of the buys. A deposit of the base asset joins the
/// position at the market's price when it was paid in (at zero cost if the market had none), as if
/// bought there without a fee. A sell removes cost in proportion to the quantity
/// sold and realises `(notional − fee) − removed cost`; a withdrawal takes its share of the cost
/// with it and realises nothing (`payingOut`). Selling more than the position holds treats the
/// excess as bought at zero cost.
public struct Position: Hashable, Sendable {
    public let symbol: String
    public let base: String
    public let quote: String
    /// Base quantity held (bought and not yet sold).
    public internal(set) var quantity: Amount
    /// Quote cost of `quantity`, buy fees included.
    public internal(set) var costBasis: Amount
    /// Σ P&L realised by sells, net of their fees, in the quote currency.
    public internal(set) var realizedPnL: Amount
    /// Σ fees charged on this market's fills (buys and sells), in the quote currency.
    public internal(set) var feesPaid: Amount

    public init(
        symbol: String, base: String, quote: String, quantity: Amount = .zero, costBasis: Amount = .zero,
        realizedPnL: Amount = .zero, feesPaid: Amount = .zero
    ) {
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.quantity = quantity
        self.costBasis = costBasis
        self.realizedPnL = realizedPnL
        self.feesPaid = feesPaid
    }

    /// Weighted average cost per whole base unit, in the quote currency (rounded half up to
    /// 10⁻⁸); `nil` while nothing is held.
    public var averagePrice: Amount? {
        guard quantity.units > 0 else { return nil }
        let numerator = Int128(costBasis.units) * Int128(Amount.unitsPerCoin)
        let denominator = Int128(quantity.units)
        guard let units = Int64(exactly: (numerator * 2 + denominator) / (denominator * 2)) else { return nil }
        return Amount(units: units)
    }

    /// After buying `base` for `cost` (notional + fee) of which `fee` is the fee.
    func buying(base: Amount, cost: Amount, fee: Amount) throws(BourseError) -> Position {
        var next = self
        next.quantity = try quantity.adding(base)
        next.costBasis = try costBasis.adding(cost)
        next.feesPaid = try feesPaid.adding(fee)
        return next
    }

    /// After `base` of the held quantity was withdrawn: its share of the cost (rounded down) leaves with it,
    /// and nothing is realised, so the average price stays.
    func payingOut(base: Amount) throws(BourseError) -> Position {
        var next = self
        if base.units >= quantity.units {
            next.quantity = .zero
            next.costBasis = .zero
        } else {
            let removed = try Checked.mulDivFloor(costBasis.units, base.units, quantity.units)
            next.quantity = try quantity.subtracting(base)
            next.costBasis = Amount(units: costBasis.units - removed)
        }
        return next
    }

    /// After selling `base` for `proceeds` (notional − fee) of which `fee` is the fee; also returns
    /// the P&L realised.
    func selling(base: Amount, proceeds: Amount, fee: Amount) throws(BourseError) -> (Position, realized: Amount) {
        var next = self
        let removedCost: Amount
        if base.units >= quantity.units {
            // The whole position (and any excess, at zero cost).
            removedCost = costBasis
            next.quantity = .zero
        } else {
            removedCost = Amount(units: try Checked.mulDivFloor(costBasis.units, base.units, quantity.units))
            next.quantity = try quantity.subtracting(base)
        }
        next.costBasis = try costBasis.subtracting(removedCost)
        let realized = try proceeds.subtracting(removedCost)
        next.realizedPnL = try realizedPnL.adding(realized)
        next.feesPaid = try feesPaid.adding(fee)
        return (next, realized)
    }
}
