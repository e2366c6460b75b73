/// When a strategy rule fires: a tree of comparisons between indicators and constants, combined with
/// `all`, `any` and `not` (api.md, "Strategies").
///
/// A tree may be invalid (see `problems(at:depth:)`); `RulePlan` compiles only valid trees.
public indirect enum RuleTree: Hashable, Sendable {
    /// True when every child is true.
    case all([RuleTree])
    /// True when some child is true.
    case any([RuleTree])
    /// True when the child is false.
    case not(RuleTree)
    /// A comparison of two operands.
    case comparison(Comparison)

    /// The node's member name in api.md's JSON form (`comparison` for a comparison, which has none).
    public var name: String {
        switch self {
        case .all: "all"
        case .any: "any"
        case .not: "not"
        case .comparison: "comparison"
        }
    }

    /// The longest path from this node to a comparison, counted in nodes: a comparison is 1 deep,
    /// `all`, `any` and `not` one more than their deepest child (an empty `all` or `any` is 1 deep).
    public var depth: Int {
        switch self {
        case .all(let children), .any(let children): 1 + (children.map(\.depth).max() ?? 0)
        case .not(let child): 1 + child.depth
        case .comparison: 1
        }
    }
}
