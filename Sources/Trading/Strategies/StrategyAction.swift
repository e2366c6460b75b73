/// The order a rule places on the strategy's market: its side and quantity (on the market's lot grid).
public struct StrategyAction: Hashable, Sendable {
    public var side: Side
    public var quantity: Quantity

    public init(side: Side, quantity: Quantity) {
        self.side = side
        self.quantity = quantity
    }
}
