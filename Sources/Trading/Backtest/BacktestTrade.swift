/// A round trip of a backtest: a quantity bought at one fill and sold at a later one (sells are matched
/// against buys first in, first out), with its profit after both fills' fees.
public struct BacktestTrade: Hashable, Sendable {
    /// The open time of the candle whose open the buy filled at.
    public var entryTime: Int64
    public var entryPrice: Double
    /// The open time of the candle whose open the sell filled at.
    public var exitTime: Int64
    public var exitPrice: Double
    public var quantity: Amount
    /// `(exitPrice − entryPrice) × quantity`, less the share of each fill's fee that falls on this quantity.
    public var pnl: Double

    public init(
        entryTime: Int64, entryPrice: Double, exitTime: Int64, exitPrice: Double, quantity: Amount, pnl: Double
    ) {
        self.entryTime = entryTime
        self.entryPrice = entryPrice
        self.exitTime = exitTime
        self.exitPrice = exitPrice
        self.quantity = quantity
        self.pnl = pnl
    }
}
