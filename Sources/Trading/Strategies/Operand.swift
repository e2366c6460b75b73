/// One side of a comparison: a constant, or an indicator's value at the close.
public enum Operand: Hashable, Sendable {
    case value(Double)
    case indicator(IndicatorOperand)

    /// The indicator operand, if this is one.
    public var indicator: IndicatorOperand? {
        if case .indicator(let operand) = self { return operand }
        return nil
    }
}
