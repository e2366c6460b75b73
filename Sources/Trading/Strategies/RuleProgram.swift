/// Compiled rules in flat arrays of plain values, evaluated at each candle close without allocating,
/// reference counting or recursion: what a `RulePlan` evaluates, and what a market concatenates its
/// strategies' plans into (`append(_:rules:)`) so that evaluating them all walks memory in order.
///
/// A rule is a list of readings that must be defined (every value it reads, and the previous ones that its
/// `crosses_above`/`crosses_below` read), then a sequence of comparisons, each naming the comparison to go to
/// next when it holds and when it does not, or the outcome: `all`, `any` and `not` become those jumps, as
/// short-circuit code (`not` swaps its child's two targets). The semantics are `RulePlan`'s.
///
/// Operands are indices into `IndicatorSet`'s flat readings: a program is evaluated on the set it was compiled
/// against, or a copy of it, possibly with more indicators added since.
public struct RuleProgram: Sendable {
    /// Where one rule's requirements and code are.
    struct Rule: Sendable {
        var requirements: Range<Int32>
        var code: Range<Int32>
    }

    /// One comparison: `left op right`, on readings or (right only) a constant, and where to go next.
    struct Instruction: Sendable {
        enum Opcode: UInt8, Sendable {
            case less, lessOrEqual, greater, greaterOrEqual, crossesAbove, crossesBelow
            /// No comparison: always goes to `ifTrue` (a comparison of two constants, an empty `all`/`any`).
            case jump
        }

        /// The right operand when `rightIsConstant`; its previous value too.
        var constant: Double
        /// The reading index of the left operand (its previous value is `IndicatorSet.previousOffset` further).
        var left: Int32
        /// The reading index of the right operand, unless `rightIsConstant`.
        var right: Int32
        /// Where to go when the comparison holds: an instruction of the rule (counted from its first), or
        /// `accept` or `reject`.
        var ifTrue: Int32
        var ifFalse: Int32
        var opcode: Opcode
        var rightIsConstant: Bool
    }

    /// A jump target that ends the rule: it holds.
    static let accept: Int32 = -1
    /// A jump target that ends the rule: it does not hold.
    static let reject: Int32 = -2

    private var rules: [Rule] = []
    private var requirements: [Int32] = []
    private var code: [Instruction] = []
    /// One more than the largest reading index, previous values included: the set must have this many.
    private var readingCount = 0

    /// An empty program.
    public init() {}

    /// The number of rules.
    public var ruleCount: Int { rules.count }

    /// Appends rules `range` of `other` (all of them when `nil`) and returns their indices in this program.
    @discardableResult
    public mutating func append(_ other: RuleProgram, rules range: Range<Int>? = nil) -> Range<Int> {
        let range = range ?? other.rules.indices
        let first = rules.count
        for rule in other.rules[range] {
            let requirementStart = Int32(requirements.count)
            requirements.append(contentsOf: other.requirements[Self.range(rule.requirements)])
            let codeStart = Int32(code.count)
            code.append(contentsOf: other.code[Self.range(rule.code)])
            rules.append(
                Rule(
                    requirements: requirementStart..<Int32(requirements.count),
                    code: codeStart..<Int32(code.count)))
        }
        readingCount = max(readingCount, other.readingCount)
        return first..<rules.count
    }

    /// Whether rule `index` holds at the latest close of `indicators`.
    public func evaluate(rule index: Int, on indicators: IndicatorSet) -> Bool {
        firstHolding(in: index..<index + 1, on: indicators) != nil
    }

    /// The first rule of `range` that holds at the latest close of `indicators`, as an offset from
    /// `range.lowerBound` (so the rule's index in its strategy when `range` holds a strategy's rules).
    public func firstHolding(in range: Range<Int>, on indicators: IndicatorSet) -> Int? {
        withEvaluator(on: indicators) { $0.firstHolding(in: range) }
    }

    /// Calls `body` with an evaluator of this program on `indicators`, for evaluating many ranges of rules at
    /// one close: the program and the set are checked against each other once, not at every range.
    public func withEvaluator<Result>(on indicators: IndicatorSet, _ body: (borrowing Evaluator) -> Result) -> Result {
        precondition(indicators.readings.count >= readingCount, "a rule program evaluated on another set")
        return indicators.readings.withUnsafeBufferPointer { values in
            requirements.withUnsafeBufferPointer { requirements in
                code.withUnsafeBufferPointer { code in
                    rules.withUnsafeBufferPointer { rules in
                        body(Evaluator(values: values, rules: rules, requirements: requirements, code: code))
                    }
                }
            }
        }
    }

    /// A `RuleProgram` and an `IndicatorSet` at one close, valid inside `RuleProgram.withEvaluator(on:_:)`.
    public struct Evaluator: ~Copyable {
        fileprivate let values: UnsafeBufferPointer<Double>
        fileprivate let rules: UnsafeBufferPointer<Rule>
        fileprivate let requirements: UnsafeBufferPointer<Int32>
        fileprivate let code: UnsafeBufferPointer<Instruction>

        /// The first rule of `range` that holds, as an offset from `range.lowerBound`.
        public func firstHolding(in range: Range<Int>) -> Int? {
            precondition(range.lowerBound >= 0 && range.upperBound <= rules.count, "rules out of range")
            for index in range
            where RuleProgram.holds(rules[index], values: values, requirements: requirements, code: code) {
                return index - range.lowerBound
            }
            return nil
        }
    }

    @inline(__always)
    fileprivate static func holds(
        _ rule: Rule, values: UnsafeBufferPointer<Double>, requirements: UnsafeBufferPointer<Int32>,
        code: UnsafeBufferPointer<Instruction>
    ) -> Bool {
        for requirement in rule.requirements
        where values[Int(requirements[Int(requirement)])].bitPattern == IndicatorSet.undefinedPattern {
            return false
        }
        let start = Int(rule.code.lowerBound)
        var next = start
        while true {
            let instruction = code[next]
            let target = evaluate(instruction, values: values) ? instruction.ifTrue : instruction.ifFalse
            if target < 0 { return target == accept }
            next = start + Int(target)
        }
    }

    @inline(__always)
    private static func evaluate(_ instruction: Instruction, values: UnsafeBufferPointer<Double>) -> Bool {
        func right(_ offset: Int) -> Double {
            instruction.rightIsConstant ? instruction.constant : values[Int(instruction.right) + offset]
        }
        switch instruction.opcode {
        case .less: return values[Int(instruction.left)] < right(0)
        case .lessOrEqual: return values[Int(instruction.left)] <= right(0)
        case .greater: return values[Int(instruction.left)] > right(0)
        case .greaterOrEqual: return values[Int(instruction.left)] >= right(0)
        case .crossesAbove:
            let left = Int(instruction.left)
            return values[left + IndicatorSet.previousOffset] < right(IndicatorSet.previousOffset)
                && values[left] > right(0)
        case .crossesBelow:
            let left = Int(instruction.left)
            return values[left + IndicatorSet.previousOffset] > right(IndicatorSet.previousOffset)
                && values[left] < right(0)
        case .jump: return true
        }
    }

    private static func range(_ range: Range<Int32>) -> Range<Int> {
        Int(range.lowerBound)..<Int(range.upperBound)
    }

    /// Adds a compiled rule: the reading indices it needs defined and its code (targets counted from its first
    /// instruction).
    mutating func appendRule(requiring needed: [Int], code instructions: [Instruction]) {
        let requirementStart = Int32(requirements.count)
        requirements.append(contentsOf: needed.map { Int32($0) })
        let codeStart = Int32(code.count)
        code.append(contentsOf: instructions)
        rules.append(
            Rule(requirements: requirementStart..<Int32(requirements.count), code: codeStart..<Int32(code.count)))
        for instruction in instructions where instruction.opcode != .jump {
            var largest = Int(instruction.left)
            if !instruction.rightIsConstant { largest = max(largest, Int(instruction.right)) }
            if instruction.opcode == .crossesAbove || instruction.opcode == .crossesBelow {
                largest += IndicatorSet.previousOffset
            }
            readingCount = max(readingCount, largest + 1)
        }
        for index in needed { readingCount = max(readingCount, index + 1) }
    }
}
