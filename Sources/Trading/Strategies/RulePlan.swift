/// A strategy's rules compiled for evaluation at each candle close: their operands resolved to the slots
/// of an `IndicatorSet` (one instance per distinct indicator and interval, shared by every rule that reads
/// it), and an evaluator that reads the set.
///
/// Evaluation is pure and allocation-free. A rule is false while any value it reads is undefined: an
/// indicator still warming up, or, for `crosses_above`/`crosses_below`, an operand with no value at the
/// previous close. That includes comparisons under `not`, so a rule never fires on a warming-up indicator.
/// `crosses_above` is true when left < right at the previous close and left > right at this one;
/// `crosses_below` mirrors it; "previous" is the set's previous update (`IndicatorSet.update(_:)`), so a
/// cross involving a 5m indicator, evaluated at each 1m close, holds at the one close where it happened.
public struct RulePlan: Sendable {
    /// The rules, as given.
    public let rules: [RuleTree]
    /// The distinct indicators the rules read, in order of first use.
    public let keys: [IndicatorKey]
    private let compiled: [CompiledRule]

    /// Validates `rules` and compiles them against `indicators`, adding to it the indicators it lacks.
    ///
    /// Evaluate the plan only on that set (or a copy of it): operands refer to its slots.
    /// - Throws: `BourseError` with code `.invalidStrategy` naming the first problem (paths `rules[i].when…`)
    ///   and how many there are; `RuleTree.problems(at:depth:)` lists them all. The set is unchanged then.
    public init(_ rules: [RuleTree], indicators: inout IndicatorSet) throws(BourseError) {
        let problems = rules.enumerated().flatMap { index, rule in rule.problems(at: .rule(index)) }
        if let first = problems.first {
            let more = problems.count > 1 ? " (and \(problems.count - 1) more)" : ""
            throw BourseError(.invalidStrategy, "\(first)\(more)")
        }
        var keys: [IndicatorKey] = []
        var compiler = Compiler(indicators: indicators)
        compiled = try rules.map { rule throws(BourseError) in try compiler.compile(rule, keys: &keys) }
        indicators = compiler.indicators
        self.rules = rules
        self.keys = keys
    }

    /// Whether rule `index` holds at the latest close.
    public func evaluate(rule index: Int, on indicators: IndicatorSet) -> Bool {
        compiled[index].evaluate(on: indicators)
    }

    /// The indices of the rules that hold at the latest close, in order.
    public func firingRules(on indicators: IndicatorSet) -> [Int] {
        compiled.indices.filter { compiled[$0].evaluate(on: indicators) }
    }
}

/// A rule with its operands resolved to slots, and the values it needs defined.
private struct CompiledRule: Sendable {
    struct Requirement: Hashable, Sendable {
        var slot: Int
        var field: IndicatorField
        var previous: Bool
    }

    let root: Node
    let requirements: [Requirement]

    func evaluate(on indicators: IndicatorSet) -> Bool {
        for requirement in requirements {
            let value =
                requirement.previous
                ? indicators.previousValue(requirement.slot, requirement.field)
                : indicators.value(requirement.slot, requirement.field)
            guard value != nil else { return false }
        }
        return root.evaluate(on: indicators)
    }
}

private indirect enum Node: Sendable {
    case all([Node])
    case any([Node])
    case not(Node)
    case comparison(CompiledOperand, ComparisonOperator, CompiledOperand)

    func evaluate(on indicators: IndicatorSet) -> Bool {
        switch self {
        case .all(let children): return children.allSatisfy { $0.evaluate(on: indicators) }
        case .any(let children): return children.contains { $0.evaluate(on: indicators) }
        case .not(let child): return !child.evaluate(on: indicators)
        case .comparison(let left, let op, let right):
            guard let l = left.value(on: indicators), let r = right.value(on: indicators) else { return false }
            switch op {
            case .lessThan: return l < r
            case .lessThanOrEqual: return l <= r
            case .greaterThan: return l > r
            case .greaterThanOrEqual: return l >= r
            case .crossesAbove, .crossesBelow:
                guard let pl = left.previousValue(on: indicators), let pr = right.previousValue(on: indicators)
                else { return false }
                return op == .crossesAbove ? pl < pr && l > r : pl > pr && l < r
            }
        }
    }
}

private enum CompiledOperand: Sendable {
    case constant(Double)
    case reading(slot: Int, field: IndicatorField)

    func value(on indicators: IndicatorSet) -> Double? {
        switch self {
        case .constant(let value): value
        case .reading(let slot, let field): indicators.value(slot, field)
        }
    }

    func previousValue(on indicators: IndicatorSet) -> Double? {
        switch self {
        case .constant(let value): value
        case .reading(let slot, let field): indicators.previousValue(slot, field)
        }
    }
}

/// Resolves operands to slots, adding indicators to the set as it meets them.
private struct Compiler {
    var indicators: IndicatorSet
    var requirements: [CompiledRule.Requirement] = []

    mutating func compile(_ rule: RuleTree, keys: inout [IndicatorKey]) throws(BourseError) -> CompiledRule {
        requirements = []
        let root = try node(rule, keys: &keys)
        var seen: Set<CompiledRule.Requirement> = []
        return CompiledRule(root: root, requirements: requirements.filter { seen.insert($0).inserted })
    }

    private mutating func node(_ rule: RuleTree, keys: inout [IndicatorKey]) throws(BourseError) -> Node {
        switch rule {
        case .all(let children): return .all(try nodes(children, keys: &keys))
        case .any(let children): return .any(try nodes(children, keys: &keys))
        case .not(let child): return .not(try node(child, keys: &keys))
        case .comparison(let comparison):
            let previous = comparison.op.comparesPrevious
            return .comparison(
                try operand(comparison.left, previous: previous, keys: &keys), comparison.op,
                try operand(comparison.right, previous: previous, keys: &keys))
        }
    }

    private mutating func nodes(_ rules: [RuleTree], keys: inout [IndicatorKey]) throws(BourseError) -> [Node] {
        var nodes: [Node] = []
        for rule in rules { nodes.append(try node(rule, keys: &keys)) }
        return nodes
    }

    private mutating func operand(_ operand: Operand, previous: Bool, keys: inout [IndicatorKey])
        throws(BourseError) -> CompiledOperand
    {
        switch operand {
        case .value(let value): return .constant(value)
        case .indicator(let indicator):
            let key = indicator.key
            if !keys.contains(key) { keys.append(key) }
            let slot = try indicators.insert(key)
            let field = indicator.readField
            requirements.append(.init(slot: slot, field: field, previous: false))
            if previous { requirements.append(.init(slot: slot, field: field, previous: true)) }
            return .reading(slot: slot, field: field)
        }
    }
}
