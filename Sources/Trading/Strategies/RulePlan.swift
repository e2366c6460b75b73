/// A strategy's rules compiled for evaluation at each candle close: their operands resolved to the slots
/// of an `IndicatorSet` (one instance per distinct indicator and interval, shared by every rule that reads
/// it), and compiled into a flat `RuleProgram` that reads the set's values with one load each.
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
    /// The rules compiled, in order: what `evaluate(rule:on:)` runs, and what a market appends to the program
    /// of all its strategies.
    public let program: RuleProgram

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
        var compiler = RuleCompiler(indicators: indicators)
        for rule in rules { try compiler.compile(rule) }
        indicators = compiler.indicators
        self.rules = rules
        self.keys = compiler.keys
        self.program = compiler.program
    }

    /// Whether rule `index` holds at the latest close.
    public func evaluate(rule index: Int, on indicators: IndicatorSet) -> Bool {
        program.evaluate(rule: index, on: indicators)
    }

    /// The index of the first rule that holds at the latest close, if any.
    public func firstFiringRule(on indicators: IndicatorSet) -> Int? {
        program.firstHolding(in: 0..<program.ruleCount, on: indicators)
    }

    /// The indices of the rules that hold at the latest close, in order.
    public func firingRules(on indicators: IndicatorSet) -> [Int] {
        rules.indices.filter { program.evaluate(rule: $0, on: indicators) }
    }
}
