/// An order of a backtest that filled: at the open of the candle opened at `time`.
public struct BacktestFill: Hashable, Sendable {
    /// The rule that placed the order.
    public var rule: Int
    public var time: Int64
    public var side: Side
    public var price: Double
    public var quantity: Amount
    public var fee: Double

    public init(rule: Int, time: Int64, side: Side, price: Double, quantity: Amount, fee: Double) {
        self.rule = rule
        self.time = time
        self.side = side
        self.price = price
        self.quantity = quantity
        self.fee = fee
    }
}
