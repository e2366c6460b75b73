import TestSupport
import Testing
import Trading

/// Random valid rule trees over random close series: the compiled rules (`RulePlan`, and the same plans laid end
/// to end in one `RuleProgram`, as a market holds them) against a plain recursive evaluation of the trees, from
/// RulePlan's documented semantics, over indicators kept apart from the set.
@Suite struct RuleProgramPropertyTests {
    @Test(arguments: [UInt64(1), 2, 3, 0xC1_05E5])
    func compiledRulesAgreeWithTheTrees(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let generator = RuleGenerator()
        for _ in 0..<12 {
            var set = IndicatorSet()
            var plans: [RulePlan] = []
            var combined = RuleProgram()
            var spans: [Range<Int>] = []
            for _ in 0..<8 {
                let rules = (0..<Int.random(in: 1...4, using: &random)).map { _ in generator.tree(&random) }
                let plan = try RulePlan(rules, indicators: &set)
                plans.append(plan)
                spans.append(combined.append(plan.program))
            }
            // Every other plan copied again out of the combined program, as a market compacts it.
            var compacted = RuleProgram()
            let kept = spans.indices.filter { $0.isMultiple(of: 2) }
            let keptSpans = kept.map { compacted.append(combined, rules: spans[$0]) }

            var reference = ReferenceIndicators(set.keys)
            var held = 0
            for (minute, close) in Self.closes(&random, count: 80).enumerated() {
                let volume = Double(Int.random(in: 0...3, using: &random))
                var candles = [ClosedCandle(interval: .m1, close: close, volume: volume)]
                if minute % 5 == 4 { candles.append(ClosedCandle(interval: .m5, close: close, volume: volume * 5)) }
                set.update(candles)
                reference.update(candles)
                reference.check(set)
                for (index, plan) in plans.enumerated() {
                    let expected = plan.rules.map { reference.holds($0) }
                    held += expected.count { $0 }
                    #expect((0..<plan.rules.count).map { plan.evaluate(rule: $0, on: set) } == expected)
                    #expect(plan.firingRules(on: set) == expected.indices.filter { expected[$0] })
                    #expect(plan.firstFiringRule(on: set) == expected.firstIndex(of: true))
                    #expect(combined.firstHolding(in: spans[index], on: set) == expected.firstIndex(of: true))
                    if let position = kept.firstIndex(of: index) {
                        #expect(
                            compacted.firstHolding(in: keptSpans[position], on: set) == expected.firstIndex(of: true))
                    }
                }
            }
            // The series make rules hold often enough for the comparison to mean something.
            #expect(held > 0)
        }
    }

    /// A random walk with plateaus (so that `<=`, `>=` and touching crosses happen) around 100.
    static func closes(_ random: inout SeededRandom, count: Int) -> [Double] {
        var price = 100.0
        return (0..<count).map { _ in
            if !random.chance(25) { price += Double(random.int(in: -4...4)) / 2 }
            return price
        }
    }
}

/// Random rule trees that `RuleTree.problems(at:depth:)` accepts, over few indicators with short periods (so
/// that they warm up within a series and rules share them) and constants near the prices.
struct RuleGenerator {
    func tree(_ random: inout SeededRandom) -> RuleTree {
        while true {
            let tree = node(&random, depth: 1)
            if tree.problems().isEmpty { return tree }
        }
    }

    private func node(_ random: inout SeededRandom, depth: Int) -> RuleTree {
        guard depth < 5, random.chance(45) else { return .comparison(comparison(&random)) }
        switch random.int(in: 0...2) {
        case 0: return .all((0..<random.int(in: 1...3)).map { _ in node(&random, depth: depth + 1) })
        case 1: return .any((0..<random.int(in: 1...3)).map { _ in node(&random, depth: depth + 1) })
        default: return .not(node(&random, depth: depth + 1))
        }
    }

    private func comparison(_ random: inout SeededRandom) -> Comparison {
        let op = ComparisonOperator.allCases.randomElement(using: &random)!
        let left = indicator(&random)
        guard random.chance(50) else { return Comparison(.indicator(left), op, .indicator(indicator(&random))) }
        let constant: Double =
            if case .rsi = left.spec { Double(random.int(in: 0...100)) } else { Double(random.int(in: 180...220)) / 2 }
        return random.chance(50)
            ? Comparison(.indicator(left), op, .value(constant)) : Comparison(.value(constant), op, .indicator(left))
    }

    private func indicator(_ random: inout SeededRandom) -> IndicatorOperand {
        let interval: Timeframe = random.chance(15) ? .m5 : .m1
        let period = Int(random.int(in: 1...6))
        switch random.int(in: 0...6) {
        case 0: return IndicatorOperand(.price, interval: interval)
        case 1: return IndicatorOperand(.volume, interval: interval)
        case 2: return IndicatorOperand(.sma(period: period), interval: interval)
        case 3: return IndicatorOperand(.ema(period: period), interval: interval)
        case 4: return IndicatorOperand(.rsi(period: period), interval: interval)
        case 5:
            let fast = Int(random.int(in: 1...3))
            let spec = IndicatorSpec.macd(fast: fast, slow: fast + Int(random.int(in: 1...3)), signal: period)
            return IndicatorOperand(spec, field: spec.fields.randomElement(using: &random), interval: interval)
        default:
            let spec = IndicatorSpec.bollinger(period: period, k: [0.5, 1, 2].randomElement(using: &random)!)
            return IndicatorOperand(spec, field: spec.fields.randomElement(using: &random), interval: interval)
        }
    }
}

/// The indicators of a set, kept apart from it: an `AnyIndicator` per key, fed the candles of its interval,
/// with every field's value before the latest update.
struct ReferenceIndicators {
    private var indicators: [IndicatorKey: AnyIndicator] = [:]
    private var previous: [IndicatorKey: [IndicatorField: Double]] = [:]

    init(_ keys: [IndicatorKey]) {
        for key in keys { indicators[key] = try! key.spec.makeIndicator() }
    }

    mutating func update(_ candles: [ClosedCandle]) {
        for (key, indicator) in indicators {
            previous[key] = Dictionary(
                uniqueKeysWithValues: key.spec.fields.compactMap { field in
                    indicator.value(field).map { (field, $0) }
                })
            if let candle = candles.first(where: { $0.interval == key.interval }) {
                indicators[key]!.update(close: candle.close, volume: candle.volume)
            }
        }
    }

    func value(_ operand: IndicatorOperand) -> Double? { indicators[operand.key]!.value(operand.readField) }

    func previousValue(_ operand: IndicatorOperand) -> Double? { previous[operand.key]?[operand.readField] }

    /// The set's values and previous values, every field asked (those the indicator lacks included), are these.
    func check(_ set: IndicatorSet) {
        for (slot, key) in set.keys.enumerated() {
            #expect(set.slot(of: key) == slot)
            for field in IndicatorField.allCases {
                let operand = IndicatorOperand(key.spec, field: field, interval: key.interval)
                #expect(set.value(slot, field) == value(operand))
                #expect(set.value(of: key, field) == value(operand))
                #expect(set.previousValue(slot, field) == previousValue(operand))
            }
        }
    }

    /// RulePlan's semantics, read plainly: false while any value the tree reads is undefined (previous values
    /// for crosses), otherwise the tree evaluated recursively.
    func holds(_ tree: RuleTree) -> Bool {
        defined(tree) && evaluate(tree)
    }

    private func defined(_ tree: RuleTree) -> Bool {
        switch tree {
        case .all(let children), .any(let children): children.allSatisfy(defined)
        case .not(let child): defined(child)
        case .comparison(let comparison):
            [comparison.left, comparison.right].allSatisfy { operand in
                guard let indicator = operand.indicator else { return true }
                return value(indicator) != nil
                    && (!comparison.op.comparesPrevious || previousValue(indicator) != nil)
            }
        }
    }

    private func evaluate(_ tree: RuleTree) -> Bool {
        switch tree {
        case .all(let children): return children.allSatisfy(evaluate)
        case .any(let children): return children.contains(where: evaluate)
        case .not(let child): return !evaluate(child)
        case .comparison(let comparison):
            let (left, right) = (current(comparison.left), current(comparison.right))
            switch comparison.op {
            case .lessThan: return left < right
            case .lessThanOrEqual: return left <= right
            case .greaterThan: return left > right
            case .greaterThanOrEqual: return left >= right
            case .crossesAbove:
                return before(comparison.left) < before(comparison.right) && left > right
            case .crossesBelow:
                return before(comparison.left) > before(comparison.right) && left < right
            }
        }
    }

    private func current(_ operand: Operand) -> Double {
        switch operand {
        case .value(let value): value
        case .indicator(let indicator): value(indicator)!
        }
    }

    private func before(_ operand: Operand) -> Double {
        switch operand {
        case .value(let value): value
        case .indicator(let indicator): previousValue(indicator)!
        }
    }
}
