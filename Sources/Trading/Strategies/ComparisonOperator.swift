/// How a comparison compares; raw values are api.md's spellings.
public enum ComparisonOperator: String, Hashable, Sendable, CaseIterable {
    case lessThan = "<"
    case lessThanOrEqual = "<="
    case greaterThan = ">"
    case greaterThanOrEqual = ">="
    /// Left was below right at the previous close and is above it at this one.
    case crossesAbove = "crosses_above"
    /// Left was above right at the previous close and is below it at this one.
    case crossesBelow = "crosses_below"

    /// Whether the operator compares the previous close's values too.
    public var comparesPrevious: Bool { self == .crossesAbove || self == .crossesBelow }
}
