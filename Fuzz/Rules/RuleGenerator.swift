import Trading

/// Rule trees built from fuzzer bytes, valid or not: empty `all`/`any`, nesting past `RuleTree.maxDepth`,
/// periods out of range, MACD with fast ≥ slow, a field the indicator lacks, non-finite constants, values
/// compared with values, an operand compared with itself.
enum RuleGenerator {
    /// Trees stop growing a little past the deepest valid one.
    static let depthLimit = RuleTree.maxDepth + 2

    static func tree(_ input: inout FuzzInput, depth: Int = 1) -> RuleTree {
        let kind = depth >= depthLimit ? 3 : input.int(in: 0...5)
        switch kind {
        case 0: return .all(children(&input, depth: depth))
        case 1: return .any(children(&input, depth: depth))
        case 2: return .not(tree(&input, depth: depth + 1))
        default:
            let left = operand(&input)
            let op = input.pick(ComparisonOperator.allCases)
            return .comparison(Comparison(left, op, input.int(in: 0...7) == 0 ? left : operand(&input)))
        }
    }

    static func children(_ input: inout FuzzInput, depth: Int) -> [RuleTree] {
        (0..<input.int(in: 0...3)).map { _ in tree(&input, depth: depth + 1) }
    }

    static func operand(_ input: inout FuzzInput) -> Operand {
        input.int(in: 0...2) == 0 ? .value(value(&input)) : .indicator(indicator(&input))
    }

    static func indicator(_ input: inout FuzzInput) -> IndicatorOperand {
        let spec = self.spec(&input)
        let field: IndicatorField? =
            switch input.int(in: 0...3) {
            case 0: input.pick(IndicatorField.allCases)
            case 1: nil
            default: spec.fields == [.value] ? nil : input.pick(spec.fields)
            }
        return IndicatorOperand(spec, field: field, interval: input.pick(Timeframe.allCases))
    }

    static func key(_ input: inout FuzzInput) -> IndicatorKey {
        IndicatorKey(spec(&input), interval: input.pick(Timeframe.allCases))
    }

    static func spec(_ input: inout FuzzInput) -> IndicatorSpec {
        switch input.int(in: 0...6) {
        case 0: .price
        case 1: .volume
        case 2: .sma(period: period(&input))
        case 3: .ema(period: period(&input))
        case 4: .rsi(period: period(&input))
        case 5: .macd(fast: period(&input), slow: period(&input), signal: period(&input))
        default: .bollinger(period: period(&input), k: value(&input))
        }
    }

    /// Mostly short periods (so that indicators warm up within a run), sometimes the edges of the range.
    static func period(_ input: inout FuzzInput) -> Int {
        let byte = input.byte()
        guard byte >= 0xF0 else { return Int(byte % 12) + 1 }
        return [0, -1, 1_000, 1_001, 999, Int.max, Int.min, 13, 26, 50, 200, 2, 3, 4, 5, 6][Int(byte - 0xF0)]
    }

    /// Mostly values near the closes, sometimes extremes and non-finite numbers, sometimes any bit pattern.
    static func value(_ input: inout FuzzInput) -> Double {
        let byte = input.byte()
        switch byte {
        case 0..<0xE0: return 90 + Double(byte) / 8
        case 0xE0..<0xF0:
            return [
                0, -0.0, 30, 70, 100, -1, 1e300, -1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 2,
                .nan, .infinity, -.infinity, 0.5, 1e15,
            ][Int(byte - 0xE0)]
        default: return Double(bitPattern: input.uint64())
        }
    }
}
