/// An order of a backtest that filled: at the open of the candle opened at `time`.
///
/// A buy paid `notional + fee` in cash, a sell received `notional − fee` (see `Backtest` for the rounding).
public struct BacktestFill: Hashable, Sendable {
    /// The rule that placed the order.
    public var rule: Int
    public var time: Int64
    public var side: Side
    public var price: Amount
    public var quantity: Amount
    /// `price × quantity`, rounded up to 10⁻⁸ for a buy and down for a sell.
    public var notional: Amount
    /// `notional × fee rate`, rounded up to 10⁻⁸.
    public var fee: Amount

    public init(
        rule: Int, time: Int64, side: Side, price: Amount, quantity: Amount, notional: Amount, fee: Amount
    ) {
        self.rule = rule
        self.time = time
        self.side = side
        self.price = price
        self.quantity = quantity
        self.notional = notional
        self.fee = fee
    }
}
