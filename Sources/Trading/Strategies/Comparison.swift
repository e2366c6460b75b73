/// `left op right`, evaluated at a candle close.
public struct Comparison: Hashable, Sendable {
    public var left: Operand
    public var op: ComparisonOperator
    public var right: Operand

    public init(_ left: Operand, _ op: ComparisonOperator, _ right: Operand) {
        self.left = left
        self.op = op
        self.right = right
    }
}
