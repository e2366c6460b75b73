import Trading

/// Binary encoding of strategies for the symbol journal and snapshot, in `BinaryWriter`'s layout.
///
/// A rule tree is written depth first: a tag byte per node (0 all, 1 any, 2 not, 3 comparison), a count
/// before the children of `all` and `any`, and for a comparison its left operand, operator and right
/// operand. An operand is a tag (0 value: the `Double`'s bits; 1 indicator: spec, field, interval). Every
/// enumeration has a fixed byte per case, independent of its declaration order.
extension BinaryWriter {
    mutating func write(strategyCommand command: StrategyCommand) {
        switch command {
        case .add(let owner, let definition):
            write(UInt8(0))
            write(owner)
            write(definition: definition)
        case .pause(let sequence):
            write(UInt8(1))
            write(sequence)
        case .resume(let sequence):
            write(UInt8(2))
            write(sequence)
        case .delete(let sequence):
            write(UInt8(3))
            write(sequence)
        case .recordSignal(let sequence, let close, let firedAt, let rule, let outcome):
            write(UInt8(4))
            write(sequence)
            write(close)
            write(firedAt)
            write(UInt64(rule))
            write(outcome: outcome)
        }
    }

    mutating func write(definition: StrategyDefinition) {
        write(definition.name)
        write(definition.symbol)
        write(Int64(definition.cooldownSeconds))
        writeCount(definition.rules.count)
        for rule in definition.rules {
            write(ruleTree: rule.when)
            write(rule.action.side.rawValue)
            write(rule.action.quantity.lots)
        }
    }

    mutating func write(outcome: SignalOutcome) {
        switch outcome {
        case .pending: write(UInt8(0))
        case .placed(let orderID):
            write(UInt8(1))
            write(orderID)
        case .refused(let code, let reason):
            write(UInt8(2))
            write(code.rawValue)
            write(reason)
        }
    }

    mutating func write(ruleTree tree: RuleTree) {
        switch tree {
        case .all(let children), .any(let children):
            write(UInt8(tree.name == "all" ? 0 : 1))
            writeCount(children.count)
            for child in children { write(ruleTree: child) }
        case .not(let child):
            write(UInt8(2))
            write(ruleTree: child)
        case .comparison(let comparison):
            write(UInt8(3))
            write(operand: comparison.left)
            write(StrategyCodes.byte(of: comparison.op))
            write(operand: comparison.right)
        }
    }

    private mutating func write(operand: Operand) {
        switch operand {
        case .value(let value):
            write(UInt8(0))
            write(value.bitPattern)
        case .indicator(let indicator):
            write(UInt8(1))
            write(spec: indicator.spec)
            write(indicator.field.map(StrategyCodes.byte(of:)) ?? 0)
            write(StrategyCodes.byte(of: indicator.interval))
        }
    }

    private mutating func write(spec: IndicatorSpec) {
        switch spec {
        case .price: write(UInt8(0))
        case .volume: write(UInt8(1))
        case .sma(let period), .ema(let period), .rsi(let period):
            write(UInt8(spec.name == "sma" ? 2 : spec.name == "ema" ? 3 : 4))
            write(Int64(period))
        case .macd(let fast, let slow, let signal):
            write(UInt8(5))
            write(Int64(fast))
            write(Int64(slow))
            write(Int64(signal))
        case .bollinger(let period, let k):
            write(UInt8(6))
            write(Int64(period))
            write(k.bitPattern)
        }
    }
}

extension BinaryReader {
    /// Rule trees nest at most `RuleTree.maxDepth` levels; a corrupt record must not recurse much deeper.
    static let maxRuleDepth = RuleTree.maxDepth + 4

    mutating func readStrategyCommand() throws(BourseError) -> StrategyCommand {
        switch try readUInt8() {
        case 0: return .add(owner: try readUInt64(), definition: try readDefinition())
        case 1: return .pause(sequence: try readUInt64())
        case 2: return .resume(sequence: try readUInt64())
        case 3: return .delete(sequence: try readUInt64())
        case 4:
            let sequence = try readUInt64()
            let close = try readInt64()
            let firedAt = try readInt64()
            let rule = try readSmallInt()
            return .recordSignal(
                sequence: sequence, candleCloseMillis: close, firedAtMillis: firedAt, rule: rule,
                outcome: try readOutcome())
        default: throw StrategyCodes.corrupt("strategy command")
        }
    }

    mutating func readDefinition() throws(BourseError) -> StrategyDefinition {
        let name = try readString()
        let symbol = try readString()
        let cooldown = try readInt64()
        guard let seconds = Int(exactly: cooldown) else { throw StrategyCodes.corrupt("cooldown") }
        let count = try readCount(minimumElementSize: 10)
        var rules: [StrategyRule] = []
        rules.reserveCapacity(count)
        for _ in 0..<count {
            let when = try readRuleTree(depth: 1)
            guard let side = Side(rawValue: try readUInt8()) else { throw StrategyCodes.corrupt("side") }
            rules.append(
                StrategyRule(when: when, action: StrategyAction(side: side, quantity: Quantity(lots: try readInt64()))))
        }
        return StrategyDefinition(name: name, symbol: symbol, rules: rules, cooldownSeconds: seconds)
    }

    mutating func readOutcome() throws(BourseError) -> SignalOutcome {
        switch try readUInt8() {
        case 0: return .pending
        case 1: return .placed(orderID: try readUInt64())
        case 2: return .refused(code: BourseError.Code(rawValue: try readString()), reason: try readString())
        default: throw StrategyCodes.corrupt("signal outcome")
        }
    }

    mutating func readRuleTree(depth: Int) throws(BourseError) -> RuleTree {
        guard depth <= Self.maxRuleDepth else { throw StrategyCodes.corrupt("rule tree too deep") }
        switch try readUInt8() {
        case let tag where tag <= 1:
            let count = try readCount()
            var children: [RuleTree] = []
            children.reserveCapacity(count)
            for _ in 0..<count { children.append(try readRuleTree(depth: depth + 1)) }
            return tag == 0 ? .all(children) : .any(children)
        case 2: return .not(try readRuleTree(depth: depth + 1))
        case 3:
            let left = try readOperand()
            guard let op = StrategyCodes.comparisonOperator(try readUInt8()) else {
                throw StrategyCodes.corrupt("comparison operator")
            }
            return .comparison(Comparison(left, op, try readOperand()))
        default: throw StrategyCodes.corrupt("rule node")
        }
    }

    private mutating func readOperand() throws(BourseError) -> Operand {
        switch try readUInt8() {
        case 0: return .value(Double(bitPattern: try readUInt64()))
        case 1:
            let spec = try readSpec()
            let fieldByte = try readUInt8()
            var field: IndicatorField?
            if fieldByte != 0 {
                guard let known = StrategyCodes.field(fieldByte) else { throw StrategyCodes.corrupt("field") }
                field = known
            }
            guard let interval = StrategyCodes.timeframe(try readUInt8()) else {
                throw StrategyCodes.corrupt("interval")
            }
            return .indicator(IndicatorOperand(spec, field: field, interval: interval))
        default: throw StrategyCodes.corrupt("operand")
        }
    }

    private mutating func readSpec() throws(BourseError) -> IndicatorSpec {
        switch try readUInt8() {
        case 0: return .price
        case 1: return .volume
        case 2: return .sma(period: try readSmallInt())
        case 3: return .ema(period: try readSmallInt())
        case 4: return .rsi(period: try readSmallInt())
        case 5: return .macd(fast: try readSmallInt(), slow: try readSmallInt(), signal: try readSmallInt())
        case 6: return .bollinger(period: try readSmallInt(), k: Double(bitPattern: try readUInt64()))
        default: throw StrategyCodes.corrupt("indicator")
        }
    }

    /// An `Int` written as 8 bytes (periods, rule indices).
    private mutating func readSmallInt() throws(BourseError) -> Int {
        guard let value = Int(exactly: try readInt64()) else { throw StrategyCodes.corrupt("integer") }
        return value
    }
}

/// The fixed bytes of the strategy vocabulary's enumerations.
enum StrategyCodes {
    static let operators: [ComparisonOperator] = [
        .lessThan, .lessThanOrEqual, .greaterThan, .greaterThanOrEqual, .crossesAbove, .crossesBelow,
    ]
    /// Byte 0 is "no field".
    static let fields: [IndicatorField] = [.value, .macd, .signal, .histogram, .upper, .middle, .lower]
    static let timeframes: [Timeframe] = [.m1, .m5, .m15, .h1, .h4, .d1]

    static func byte(of op: ComparisonOperator) -> UInt8 { UInt8(operators.firstIndex(of: op)!) }
    static func byte(of field: IndicatorField) -> UInt8 { UInt8(fields.firstIndex(of: field)! + 1) }
    static func byte(of timeframe: Timeframe) -> UInt8 { UInt8(timeframes.firstIndex(of: timeframe)!) }

    static func comparisonOperator(_ byte: UInt8) -> ComparisonOperator? {
        Int(byte) < operators.count ? operators[Int(byte)] : nil
    }

    static func field(_ byte: UInt8) -> IndicatorField? {
        (1...fields.count).contains(Int(byte)) ? fields[Int(byte) - 1] : nil
    }

    static func timeframe(_ byte: UInt8) -> Timeframe? { Int(byte) < timeframes.count ? timeframes[Int(byte)] : nil }

    static func corrupt(_ what: String) -> BourseError { BourseError(.internal, "corrupt journal: \(what)") }
}
