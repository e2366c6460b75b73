import Trading

/// Reads api.md's JSON rule trees into `RuleTree`s, collecting every problem with its path, in document
/// order: shapes it cannot read (not an object, unknown member, indicator, operator, field or interval, a
/// parameter of the wrong type or missing) and, for each node it could read, the tree's own validation
/// (`RuleTree.nodeProblems(at:)`, `Operand.problems(at:)`), so it finds what `RuleTree.problems(at:depth:)`
/// would.
///
/// Members whose value is `null` count as absent. The parser descends no deeper than `RuleTree.maxDepth`.
struct RuleParser {
    /// Every problem found so far, in document order.
    var problems: [RuleProblem] = []

    static let indicatorNames = ["price", "volume", "sma", "ema", "rsi", "macd", "bollinger"]

    /// The rule tree at `path` (a rule's `when`), or nil when it has problems (then in `problems`).
    mutating func parse(_ json: JSONValue, at path: RulePath) -> RuleTree? {
        let before = problems.count
        let tree = rule(json, at: path, depth: 1)
        return problems.count == before ? tree : nil
    }

    private mutating func problem(_ path: RulePath, _ message: String) {
        problems.append(RuleProblem(path, message))
    }

    /// The node, its own problems recorded; nil after recording why it could not be read.
    private mutating func rule(_ json: JSONValue, at path: RulePath, depth: Int) -> RuleTree? {
        guard let node = unvalidatedRule(json, at: path, depth: depth) else { return nil }
        problems += node.nodeProblems(at: path)
        return node
    }

    private mutating func unvalidatedRule(_ json: JSONValue, at path: RulePath, depth: Int) -> RuleTree? {
        guard depth <= RuleTree.maxDepth else {
            problems.append(RuleTree.depthProblem(at: path))
            return nil
        }
        guard case .object(let object) = json else {
            problem(path, "a rule must be an object: {all}, {any}, {not} or a comparison {left, op, right}")
            return nil
        }
        let keys = object.keys
        let kinds = ["all", "any", "not"].filter(keys.contains)
        let comparisonKeys = ["left", "op", "right"]
        let isComparison = keys.contains(where: comparisonKeys.contains)
        guard kinds.count + (isComparison ? 1 : 0) == 1 else {
            problem(path, "a rule is exactly one of {all}, {any}, {not} or a comparison {left, op, right}")
            return nil
        }
        let allowed = isComparison ? comparisonKeys : kinds
        for key in keys where !allowed.contains(key) {
            problem(path.appending(key), "unknown member \(key) of a rule")
        }
        switch kinds.first {
        case "all"?: return children(object["all"]!, "all", at: path, depth: depth).map(RuleTree.all)
        case "any"?: return children(object["any"]!, "any", at: path, depth: depth).map(RuleTree.any)
        case "not"?: return rule(object["not"]!, at: path.appending("not"), depth: depth + 1).map(RuleTree.not)
        default: return comparison(object, at: path).map(RuleTree.comparison)
        }
    }

    private mutating func children(_ json: JSONValue, _ name: String, at path: RulePath, depth: Int) -> [RuleTree]? {
        let path = path.appending(name)
        guard case .array(let elements) = json else {
            problem(path, "\(name) must be an array of rules")
            return nil
        }
        let children = elements.enumerated().map { index, element in
            rule(element, at: path.appending(index: index), depth: depth + 1)
        }
        return children.contains(where: { $0 == nil }) ? nil : children.map { $0! }
    }

    private mutating func comparison(_ object: JSONObject, at path: RulePath) -> Comparison? {
        let left = required(object, "left", at: path).flatMap { operand($0, at: path.appending("left")) }
        let op = required(object, "op", at: path).flatMap { comparisonOperator($0, at: path.appending("op")) }
        let right = required(object, "right", at: path).flatMap { operand($0, at: path.appending("right")) }
        guard let left, let op, let right else {
            if let left { problems += left.problems(at: path.appending("left")) }
            if let right { problems += right.problems(at: path.appending("right")) }
            return nil
        }
        return Comparison(left, op, right)
    }

    private mutating func required(_ object: JSONObject, _ key: String, at path: RulePath) -> JSONValue? {
        guard let value = Self.member(object, key) else {
            problem(path.appending(key), "\(key) is required")
            return nil
        }
        return value
    }

    private mutating func comparisonOperator(_ json: JSONValue, at path: RulePath) -> ComparisonOperator? {
        guard let text = json.stringValue, let op = ComparisonOperator(rawValue: text) else {
            let names = ComparisonOperator.allCases.map(\.rawValue).joined(separator: ", ")
            problem(path, "op must be one of \(names)")
            return nil
        }
        return op
    }

    private mutating func operand(_ json: JSONValue, at path: RulePath) -> Operand? {
        guard case .object(let object) = json else {
            problem(path, "an operand must be an object: {value} or {indicator, …}")
            return nil
        }
        switch (Self.member(object, "value"), Self.member(object, "indicator")) {
        case (_?, _?):
            problem(path, "an operand is either a value or an indicator, not both")
            return nil
        case (nil, nil):
            problem(path, "an operand needs a value or an indicator")
            return nil
        case (let value?, nil):
            for key in object.keys where key != "value" { problem(path.appending(key), "unknown member \(key)") }
            return number(value, at: path.appending("value")).map(Operand.value)
        case (nil, let name?):
            return indicator(name, object, at: path).map(Operand.indicator)
        }
    }
}
