/// One rule of a backtest: when `when` holds at a candle's close, trade `quantity` on `side` at the next
/// candle's open.
public struct BacktestRule: Hashable, Sendable {
    public var when: RuleTree
    public var side: Side
    /// How much of the asset to trade: positive, exact to 8 decimals like every asset amount.
    public var quantity: Amount

    public init(when: RuleTree, side: Side, quantity: Amount) {
        self.when = when
        self.side = side
        self.quantity = quantity
    }
}
