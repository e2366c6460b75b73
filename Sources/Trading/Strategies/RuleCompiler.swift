/// Compiles rule trees into a `RuleProgram` on an `IndicatorSet`, adding to the set the indicators it lacks.
///
/// A tree becomes short-circuit code: each comparison jumps to the next one to evaluate, or to the outcome,
/// depending on whether it holds. `all` chains its children on "holds" and sends every "fails" to its own
/// "fails" target, `any` the other way round, and `not` swaps its child's targets. Operands become reading
/// indices in the set; a constant on the left is moved to the right with the operator mirrored (`1 < x` is
/// `x > 1`, `1 crosses_above x` is `x crosses_below 1`), which holds for every pair of numbers, NaN included.
struct RuleCompiler {
    private(set) var indicators: IndicatorSet
    /// The distinct indicators read so far, in order of first use.
    private(set) var keys: [IndicatorKey] = []
    private(set) var program = RuleProgram()
    /// The rule being compiled: its code, and the reading indices it needs defined (in order of first use).
    private var code: [RuleProgram.Instruction] = []
    private var requirements: [Int] = []
    /// Whether the rule reads a field its indicator lacks (an invalid tree): it never holds then.
    private var readsMissingField = false

    init(indicators: IndicatorSet) {
        self.indicators = indicators
    }

    /// Compiles `rule`, a valid tree (`RuleTree.problems(at:depth:)` empty), as the program's next rule.
    mutating func compile(_ rule: RuleTree) throws(BourseError) {
        code = []
        requirements = []
        readsMissingField = false
        try emit(rule, ifTrue: RuleProgram.accept, ifFalse: RuleProgram.reject)
        if readsMissingField {
            (code, requirements) = ([], [])
            jump(to: RuleProgram.reject)
        }
        program.appendRule(requiring: requirements, code: code)
    }

    private mutating func emit(_ tree: RuleTree, ifTrue: Int32, ifFalse: Int32) throws(BourseError) {
        switch tree {
        case .all(let children):
            guard !children.isEmpty else { return jump(to: ifTrue) }
            for (index, child) in children.enumerated() {
                let next = index == children.count - 1 ? ifTrue : Int32(code.count + child.comparisonCount)
                try emit(child, ifTrue: next, ifFalse: ifFalse)
            }
        case .any(let children):
            guard !children.isEmpty else { return jump(to: ifFalse) }
            for (index, child) in children.enumerated() {
                let next = index == children.count - 1 ? ifFalse : Int32(code.count + child.comparisonCount)
                try emit(child, ifTrue: ifTrue, ifFalse: next)
            }
        case .not(let child): try emit(child, ifTrue: ifFalse, ifFalse: ifTrue)
        case .comparison(let comparison): try emit(comparison, ifTrue: ifTrue, ifFalse: ifFalse)
        }
    }

    private mutating func emit(_ comparison: Comparison, ifTrue: Int32, ifFalse: Int32) throws(BourseError) {
        let previous = comparison.op.comparesPrevious
        switch (comparison.left, comparison.right) {
        case (.value(let left), .value(let right)):
            // Constant either way (a tree with one is invalid; kept total all the same).
            let holds =
                switch comparison.op {
                case .lessThan: left < right
                case .lessThanOrEqual: left <= right
                case .greaterThan: left > right
                case .greaterThanOrEqual: left >= right
                case .crossesAbove: left < right && left > right
                case .crossesBelow: left > right && left < right
                }
            jump(to: holds ? ifTrue : ifFalse)
        case (.indicator(let left), .value(let right)):
            let left = try reading(left, previous: previous)
            append(comparison.op, left: left, right: nil, constant: right, ifTrue: ifTrue, ifFalse: ifFalse)
        case (.value(let left), .indicator(let right)):
            let right = try reading(right, previous: previous)
            append(comparison.op.mirrored, left: right, right: nil, constant: left, ifTrue: ifTrue, ifFalse: ifFalse)
        case (.indicator(let left), .indicator(let right)):
            let left = try reading(left, previous: previous)
            let right = try reading(right, previous: previous)
            append(comparison.op, left: left, right: right, constant: 0, ifTrue: ifTrue, ifFalse: ifFalse)
        }
    }

    private mutating func append(
        _ op: ComparisonOperator, left: Int, right: Int?, constant: Double, ifTrue: Int32, ifFalse: Int32
    ) {
        let opcode: RuleProgram.Instruction.Opcode =
            switch op {
            case .lessThan: .less
            case .lessThanOrEqual: .lessOrEqual
            case .greaterThan: .greater
            case .greaterThanOrEqual: .greaterOrEqual
            case .crossesAbove: .crossesAbove
            case .crossesBelow: .crossesBelow
            }
        code.append(
            .init(
                constant: constant, left: Int32(left), right: Int32(right ?? 0), ifTrue: ifTrue, ifFalse: ifFalse,
                opcode: opcode, rightIsConstant: right == nil))
    }

    private mutating func jump(to target: Int32) {
        code.append(
            .init(
                constant: 0, left: 0, right: 0, ifTrue: target, ifFalse: target, opcode: .jump, rightIsConstant: true))
    }

    /// The reading index of `operand`'s current value, adding its indicator to the set if needed and noting the
    /// readings the rule needs defined (the previous value too when `previous`).
    private mutating func reading(_ operand: IndicatorOperand, previous: Bool) throws(BourseError) -> Int {
        let key = operand.key
        if !keys.contains(key) { keys.append(key) }
        let slot = try indicators.insert(key)
        guard let current = indicators.readingIndex(slot, operand.readField, previous: false),
            let before = indicators.readingIndex(slot, operand.readField, previous: true)
        else {
            readsMissingField = true
            return 0
        }
        require(current)
        if previous { require(before) }
        return current
    }

    private mutating func require(_ index: Int) {
        if !requirements.contains(index) { requirements.append(index) }
    }
}

extension RuleTree {
    /// The number of instructions the tree compiles to: one per comparison, and per empty `all` or `any`.
    fileprivate var comparisonCount: Int {
        switch self {
        case .all(let children), .any(let children):
            children.isEmpty ? 1 : children.reduce(0) { $0 + $1.comparisonCount }
        case .not(let child): child.comparisonCount
        case .comparison: 1
        }
    }
}

extension ComparisonOperator {
    /// The operator that compares the operands the other way round: `a op b` is `b op.mirrored a`.
    fileprivate var mirrored: ComparisonOperator {
        switch self {
        case .lessThan: .greaterThan
        case .lessThanOrEqual: .greaterThanOrEqual
        case .greaterThan: .lessThan
        case .greaterThanOrEqual: .lessThanOrEqual
        case .crossesAbove: .crossesBelow
        case .crossesBelow: .crossesAbove
        }
    }
}
