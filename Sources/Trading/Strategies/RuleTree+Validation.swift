/// What makes a rule tree impossible or meaningless (api.md: RSI outside 0–100, period < 1 or > 1000,
/// fast ≥ slow, empty all/any, a value compared with a value, depth over 16), each problem at the path of
/// the member or node that has it.
extension RuleTree {
    /// The deepest tree accepted (see `depth`).
    public static let maxDepth = 16

    /// The range RSI lies in.
    public static let rsiRange = 0.0...100.0

    /// The problem of the first node below `maxDepth` on a path (its depth counted from 1 at a rule's root).
    public static func depthProblem(at path: RulePath) -> RuleProblem {
        RuleProblem(path, "rules may nest at most \(maxDepth) levels deep")
    }

    /// Every problem of the tree, with paths under `path`; this node sits at `depth` (1 for a rule's root).
    /// Nodes deeper than `maxDepth` are reported once, at the first node too deep, and not looked into.
    public func problems(at path: RulePath = RulePath(), depth: Int = 1) -> [RuleProblem] {
        guard depth <= Self.maxDepth else { return [Self.depthProblem(at: path)] }
        var problems = nodeProblems(at: path)
        switch self {
        case .all(let children), .any(let children):
            let path = path.appending(self.name)
            for (index, child) in children.enumerated() {
                problems += child.problems(at: path.appending(index: index), depth: depth + 1)
            }
        case .not(let child): problems += child.problems(at: path.appending("not"), depth: depth + 1)
        case .comparison: break
        }
        return problems
    }

    /// The problems of this node itself, not of its children: an empty `all` or `any`; a comparison's
    /// (which include its operands').
    public func nodeProblems(at path: RulePath) -> [RuleProblem] {
        switch self {
        case .all(let children), .any(let children):
            children.isEmpty ? [RuleProblem(path.appending(name), "\(name) needs at least one rule")] : []
        case .not: []
        case .comparison(let comparison): comparison.problems(at: path)
        }
    }
}

extension Comparison {
    /// Every problem of the comparison and its operands, with paths under `path`.
    public func problems(at path: RulePath) -> [RuleProblem] {
        var problems = left.problems(at: path.appending("left")) + right.problems(at: path.appending("right"))
        switch (left, right) {
        case (.value, .value):
            problems.append(RuleProblem(path, "compares a value with a value: the result never changes"))
        case (.indicator(let indicator), .value(let value)), (.value(let value), .indicator(let indicator)):
            if case .rsi = indicator.spec, value.isFinite, !RuleTree.rsiRange.contains(value) {
                let side = left.indicator == nil ? "left" : "right"
                problems.append(
                    RuleProblem(
                        path.appending(side).appending("value"),
                        "rsi lies between 0 and 100: comparing it with \(Self.text(value)) is meaningless"))
            }
        case (.indicator, .indicator):
            if left == right {
                problems.append(RuleProblem(path, "compares an operand with itself: the result never changes"))
            }
        }
        return problems
    }

    /// `value` without a needless `.0`.
    static func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}

extension Operand {
    /// Every problem of the operand, with paths under `path` (the operand's own).
    public func problems(at path: RulePath) -> [RuleProblem] {
        switch self {
        case .value(let value):
            value.isFinite ? [] : [RuleProblem(path.appending("value"), "value must be a finite number")]
        case .indicator(let operand): operand.problems(at: path)
        }
    }
}

extension IndicatorOperand {
    /// Every problem of the indicator's parameters and field, with paths under `path` (the operand's own).
    public func problems(at path: RulePath) -> [RuleProblem] {
        parameterProblems(at: path) + fieldProblems(at: path)
    }

    private func parameterProblems(at path: RulePath) -> [RuleProblem] {
        var problems: [RuleProblem] = []
        func check(_ member: String, _ rule: () throws(BourseError) -> Void) {
            do {
                try rule()
            } catch {
                problems.append(RuleProblem(path.appending(member), error.message))
            }
        }
        switch spec {
        case .price, .volume: break
        case .sma(let period), .ema(let period), .rsi(let period):
            check("period") { () throws(BourseError) in try IndicatorSpec.check(period: period, of: spec.name) }
        case .macd(let fast, let slow, let signal):
            check("fast") { () throws(BourseError) in
                try IndicatorSpec.check(period: fast, of: "macd", parameter: "fast period")
            }
            check("slow") { () throws(BourseError) in
                try IndicatorSpec.check(period: slow, of: "macd", parameter: "slow period")
            }
            check("signal") { () throws(BourseError) in
                try IndicatorSpec.check(period: signal, of: "macd", parameter: "signal period")
            }
            if problems.isEmpty {
                check("fast") { () throws(BourseError) in
                    try IndicatorSpec.check(fast: fast, slow: slow, signal: signal)
                }
            }
        case .bollinger(let period, let k):
            check("period") { () throws(BourseError) in try IndicatorSpec.check(period: period, of: "bollinger") }
            if !(k > 0 && k.isFinite) {
                problems.append(RuleProblem(path.appending("stddev"), "bollinger stddev must be positive and finite"))
            }
        }
        return problems
    }

    private func fieldProblems(at path: RulePath) -> [RuleProblem] {
        let fields = spec.fields
        let path = path.appending("field")
        let names = fields.map(\.rawValue).joined(separator: ", ")
        switch field {
        case nil where fields != [.value]:
            return [RuleProblem(path, "\(spec.name) needs a field: one of \(names)")]
        case nil:
            return []
        case .some where fields == [.value]:
            return [RuleProblem(path, "\(spec.name) has a single value: leave field out")]
        case .some(let field) where !fields.contains(field):
            return [RuleProblem(path, "\(spec.name) has no field \(field.rawValue): use one of \(names)")]
        case .some:
            return []
        }
    }
}
