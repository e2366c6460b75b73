/// A round trip of a backtest: a quantity bought at one fill and sold at a later one (sells are matched
/// against buys first in, first out), with its profit after both fills' fees.
public struct BacktestTrade: Hashable, Sendable {
    /// The open time of the candle whose open the buy filled at.
    public var entryTime: Int64
    public var entryPrice: Amount
    /// The open time of the candle whose open the sell filled at.
    public var exitTime: Int64
    public var exitPrice: Amount
    public var quantity: Amount
    /// What the quantity's share of the sell brought in (notional less fee) less what its share of the buy cost
    /// (notional plus fee): `(exitPrice − entryPrice) × quantity` less both fees' shares, exact to 10⁻⁸ (see
    /// `Backtest` for how shares are rounded).
    public var pnl: Amount

    public init(
        entryTime: Int64, entryPrice: Amount, exitTime: Int64, exitPrice: Amount, quantity: Amount, pnl: Amount
    ) {
        self.entryTime = entryTime
        self.entryPrice = entryPrice
        self.exitTime = exitTime
        self.exitPrice = exitPrice
        self.quantity = quantity
        self.pnl = pnl
    }
}
