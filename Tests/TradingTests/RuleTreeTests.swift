import Testing
import Trading

/// Rule trees: what validation refuses and where it says the problem is, and how compiled rules evaluate
/// on hand-made series.
@Suite struct RuleTreeTests {
    static let price = Operand.indicator(IndicatorOperand(.price))

    static func sma(_ period: Int, _ interval: Timeframe = .m1) -> Operand {
        .indicator(IndicatorOperand(.sma(period: period), interval: interval))
    }

    static func rsi(_ period: Int = 14) -> Operand { .indicator(IndicatorOperand(.rsi(period: period))) }

    static func compare(_ left: Operand, _ op: ComparisonOperator, _ right: Operand) -> RuleTree {
        .comparison(Comparison(left, op, right))
    }

    /// The problems of `tree` as the first rule of a strategy: `path: message`.
    static func problems(_ tree: RuleTree) -> [String] {
        tree.problems(at: .rule(0)).map(\.description)
    }

    static func paths(_ tree: RuleTree) -> [String] {
        tree.problems(at: .rule(0)).map(\.path.description)
    }

    // MARK: - Validation

    @Test func aSensibleTreeHasNoProblems() {
        let tree = RuleTree.all([
            Self.compare(Self.rsi(), .lessThan, .value(30)),
            .any([
                Self.compare(Self.price, .crossesAbove, Self.sma(50)),
                .not(Self.compare(.indicator(IndicatorOperand(.volume, interval: .h1)), .greaterThan, .value(1e6))),
            ]),
            Self.compare(
                .indicator(IndicatorOperand(.macd(fast: 12, slow: 26, signal: 9), field: .histogram)),
                .greaterThanOrEqual, .value(0)),
            Self.compare(
                Self.price, .lessThanOrEqual,
                .indicator(IndicatorOperand(.bollinger(period: 20, k: 2), field: .lower))),
        ])
        #expect(tree.problems().isEmpty)
        #expect(tree.depth == 4)
    }

    @Test func rsiComparedOutsideZeroToHundredIsRefusedOnEitherSide() {
        #expect(
            Self.problems(Self.compare(Self.rsi(), .greaterThan, .value(150))) == [
                "rules[0].when.right.value: rsi lies between 0 and 100: comparing it with 150 is meaningless"
            ])
        #expect(Self.paths(Self.compare(.value(-0.5), .lessThan, Self.rsi())) == ["rules[0].when.left.value"])
        #expect(Self.paths(Self.compare(Self.rsi(), .crossesBelow, .value(100.5))) == ["rules[0].when.right.value"])
        // The bounds themselves, and RSI against other indicators, are fine.
        #expect(Self.paths(Self.compare(Self.rsi(), .greaterThan, .value(100))).isEmpty)
        #expect(Self.paths(Self.compare(.value(0), .lessThan, Self.rsi())).isEmpty)
        #expect(Self.paths(Self.compare(Self.rsi(7), .crossesAbove, Self.rsi(14))).isEmpty)
        #expect(Self.paths(Self.compare(Self.price, .greaterThan, .value(150))).isEmpty)
    }

    @Test(arguments: [0, -3, 1_001, Int.max])
    func periodsOutsideOneToAThousandAreRefusedAtThePeriod(_ period: Int) {
        let tree = RuleTree.all([
            Self.compare(Self.price, .greaterThan, .value(1)),
            Self.compare(Self.sma(period), .lessThan, Self.price),
        ])
        #expect(
            Self.problems(tree) == [
                "rules[0].when.all[1].left.period: sma period must be between 1 and 1000, not \(period)"
            ])
        let bands = Operand.indicator(IndicatorOperand(.bollinger(period: period, k: 2), field: .upper))
        #expect(Self.paths(Self.compare(Self.price, .greaterThan, bands)) == ["rules[0].when.right.period"])
        let macd = Operand.indicator(IndicatorOperand(.macd(fast: 12, slow: 26, signal: period), field: .macd))
        #expect(Self.paths(Self.compare(macd, .greaterThan, .value(0))) == ["rules[0].when.left.signal"])
        #expect(
            Self.paths(Self.compare(.indicator(IndicatorOperand(.ema(period: period))), .lessThan, Self.price)) == [
                "rules[0].when.left.period"
            ])
    }

    @Test func macdFastMustBeBelowSlow() {
        for (fast, slow) in [(26, 12), (12, 12)] {
            let macd = Operand.indicator(IndicatorOperand(.macd(fast: fast, slow: slow, signal: 9), field: .signal))
            #expect(
                Self.problems(Self.compare(macd, .crossesAbove, .value(0))) == [
                    "rules[0].when.left.fast: macd fast period (\(fast)) must be less than its slow period (\(slow))"
                ])
        }
    }

    @Test func emptyAllAndAnyAreRefused() {
        #expect(Self.problems(.all([])) == ["rules[0].when.all: all needs at least one rule"])
        #expect(
            Self.problems(.all([Self.compare(Self.price, .greaterThan, .value(1)), .not(.any([]))])) == [
                "rules[0].when.all[1].not.any: any needs at least one rule"
            ])
    }

    @Test func aValueComparedWithAValueOrAnOperandWithItselfIsRefused() {
        #expect(
            Self.problems(.not(Self.compare(.value(1), .lessThan, .value(2)))) == [
                "rules[0].when.not: compares a value with a value: the result never changes"
            ])
        #expect(
            Self.problems(Self.compare(Self.sma(14), .crossesAbove, Self.sma(14))) == [
                "rules[0].when: compares an operand with itself: the result never changes"
            ])
        // The same indicator on another interval is another operand.
        #expect(Self.problems(Self.compare(Self.sma(14), .crossesAbove, Self.sma(14, .h1))).isEmpty)
    }

    @Test func bollingerStddevMustBePositiveAndFinite() {
        for k in [0, -1, .infinity, .nan] as [Double] {
            let bands = Operand.indicator(IndicatorOperand(.bollinger(period: 20, k: k), field: .middle))
            #expect(
                Self.problems(Self.compare(bands, .lessThan, Self.price)) == [
                    "rules[0].when.left.stddev: bollinger stddev must be positive and finite"
                ])
        }
    }

    @Test func fieldsMustMatchTheIndicator() {
        let macd = IndicatorSpec.macd(fast: 12, slow: 26, signal: 9)
        let bands = IndicatorSpec.bollinger(period: 20, k: 2)
        #expect(
            Self.problems(Self.compare(.indicator(IndicatorOperand(macd)), .greaterThan, .value(0))) == [
                "rules[0].when.left.field: macd needs a field: one of macd, signal, histogram"
            ])
        #expect(
            Self.problems(Self.compare(Self.price, .greaterThan, .indicator(IndicatorOperand(bands, field: .macd))))
                == ["rules[0].when.right.field: bollinger has no field macd: use one of upper, middle, lower"])
        #expect(
            Self.problems(
                Self.compare(.indicator(IndicatorOperand(.sma(period: 3), field: .upper)), .greaterThan, Self.price))
                == ["rules[0].when.left.field: sma has a single value: leave field out"])
        #expect(
            Self.paths(Self.compare(.indicator(IndicatorOperand(.price, field: .value)), .greaterThan, .value(1)))
                == ["rules[0].when.left.field"])
    }

    @Test func valuesMustBeFinite() {
        #expect(
            Self.problems(Self.compare(Self.price, .greaterThan, .value(.infinity))) == [
                "rules[0].when.right.value: value must be a finite number"
            ])
    }

    @Test func everyProblemIsReportedInDocumentOrder() {
        let tree = RuleTree.any([
            Self.compare(Self.sma(0), .greaterThan, Self.rsi(2_000)),
            .all([]),
            Self.compare(.value(1), .greaterThan, .value(2)),
            Self.compare(Self.rsi(), .greaterThan, .value(-1)),
        ])
        #expect(
            Self.paths(tree) == [
                "rules[0].when.any[0].left.period", "rules[0].when.any[0].right.period", "rules[0].when.any[1].all",
                "rules[0].when.any[2]", "rules[0].when.any[3].right.value",
            ])
    }

    /// `not` nested `levels - 1` times around a comparison: a tree `levels` deep.
    static func nested(_ levels: Int) -> RuleTree {
        var tree = compare(price, .greaterThan, .value(1))
        for level in 1..<levels { tree = level.isMultiple(of: 2) ? .not(tree) : .all([tree]) }
        return tree
    }

    @Test func sixteenLevelsAreAcceptedAndSeventeenRefused() {
        #expect(Self.nested(16).depth == 16)
        #expect(Self.problems(Self.nested(16)).isEmpty)
        let deep = Self.nested(17)
        #expect(deep.depth == 17)
        let problems = deep.problems(at: .rule(2))
        #expect(problems.count == 1)
        // The 17th node is the comparison at the bottom: under 16 nodes alternating all[0] and not.
        var path = RulePath.rule(2)
        for level in (1..<17).reversed() {
            path = level.isMultiple(of: 2) ? path.appending("not") : path.appending("all").appending(index: 0)
        }
        #expect(problems.first?.path == path)
        #expect(problems.first?.message == "rules may nest at most 16 levels deep")
        #expect(problems.first?.path.description.hasPrefix("rules[2].when.not.all[0].not.all[0]") == true)
        #expect(Self.nested(40).problems().count == 1)
    }

    @Test func aPlanRefusesInvalidRulesWithTheFirstProblem() {
        var indicators = IndicatorSet()
        #expect(throws: BourseError(.invalidStrategy, "rules[1].when.all: all needs at least one rule (and 1 more)")) {
            try RulePlan(
                [
                    Self.compare(Self.price, .greaterThan, .value(1)), .all([]),
                    Self.compare(Self.sma(0), .lessThan, Self.price),
                ],
                indicators: &indicators)
        }
        #expect(indicators.count == 0)
    }

    @Test func pathsRenderMembersAndIndices() {
        #expect(
            RulePath.rule(3).appending("any").appending(index: 1).appending("left").description
                == "rules[3].when.any[1].left")
        #expect(RulePath("name").description == "name")
        #expect(RulePath().description == "")
        #expect(RuleProblem(RulePath(), "bad").description == "bad")
        #expect(Timeframe.allCases.map(\.rawValue) == ["1m", "5m", "15m", "1h", "4h", "1d"])
        #expect(Timeframe.default == .m1 && Timeframe.h4.millis == 14_400_000)
    }

    // MARK: - Evaluation

    /// Compiles `rules`, feeds `closes` as 1m candles (volume 1 each) and returns which rules hold after each
    /// close.
    static func run(_ rules: [RuleTree], _ closes: [Double]) throws -> [[Bool]] {
        var indicators = IndicatorSet()
        let plan = try RulePlan(rules, indicators: &indicators)
        return closes.map { close in
            indicators.update(interval: .m1, close: close, volume: 1)
            return rules.indices.map { plan.evaluate(rule: $0, on: indicators) }
        }
    }

    static func column(_ rows: [[Bool]], _ index: Int = 0) -> [Bool] { rows.map { $0[index] } }

    @Test func comparisonsWithValues() throws {
        let closes: [Double] = [9, 10, 11, 10]
        let rows = try Self.run(
            [
                Self.compare(Self.price, .lessThan, .value(10)), Self.compare(Self.price, .lessThanOrEqual, .value(10)),
                Self.compare(Self.price, .greaterThan, .value(10)),
                Self.compare(.value(10), .lessThanOrEqual, Self.price),
            ], closes)
        #expect(Self.column(rows, 0) == [true, false, false, false])
        #expect(Self.column(rows, 1) == [true, true, false, true])
        #expect(Self.column(rows, 2) == [false, false, true, false])
        #expect(Self.column(rows, 3) == [false, true, true, true])
    }

    /// crosses_above: below at the previous close and above at this one (touching does not count);
    /// crosses_below mirrors it; nothing crosses at the first close.
    @Test func crossesCompareThePreviousClose() throws {
        let closes: [Double] = [11, 9, 11, 10, 11, 12, 9]
        let rows = try Self.run(
            [
                Self.compare(Self.price, .crossesAbove, .value(10)),
                Self.compare(Self.price, .crossesBelow, .value(10)),
                Self.compare(.value(10), .crossesBelow, Self.price),
            ], closes)
        #expect(Self.column(rows, 0) == [false, false, true, false, false, false, false])
        #expect(Self.column(rows, 1) == [false, true, false, false, false, false, true])
        #expect(Self.column(rows, 2) == Self.column(rows, 0))
    }

    /// Price against SMA(3): 1, 2, 6 (SMA 3), 1 (SMA 3), 5 (SMA 4): the price crosses below at the fourth
    /// close and above at the fifth; at the third the SMA has no previous value yet.
    @Test func crossesBetweenIndicators() throws {
        let closes: [Double] = [1, 2, 6, 1, 5]
        let rows = try Self.run(
            [
                Self.compare(Self.price, .crossesAbove, Self.sma(3)),
                Self.compare(Self.price, .crossesBelow, Self.sma(3)),
                .not(Self.compare(Self.price, .crossesAbove, Self.sma(3))),
            ], closes)
        #expect(Self.column(rows, 0) == [false, false, false, false, true])
        #expect(Self.column(rows, 1) == [false, false, false, true, false])
        // Undefined until the SMA has a previous value, even under `not`.
        #expect(Self.column(rows, 2) == [false, false, false, true, false])
    }

    /// A rule reading an indicator that is still warming up is false, whatever the tree around it.
    @Test func undefinedIndicatorsMakeTheWholeRuleFalse() throws {
        let closes: [Double] = [1, 2, 3, 4]
        let rows = try Self.run(
            [
                Self.compare(Self.sma(3), .greaterThan, .value(0)),
                .not(Self.compare(Self.sma(3), .greaterThan, .value(1_000))),
                .any([
                    Self.compare(Self.price, .greaterThan, .value(0)),
                    Self.compare(Self.sma(3), .greaterThan, .value(0)),
                ]),
                Self.compare(Self.price, .greaterThan, .value(0)),
            ], closes)
        #expect(Self.column(rows, 0) == [false, false, true, true])
        #expect(Self.column(rows, 1) == [false, false, true, true])
        #expect(Self.column(rows, 2) == [false, false, true, true])
        #expect(Self.column(rows, 3) == [true, true, true, true])
    }

    @Test func allAnyAndNotCombine() throws {
        let above = Self.compare(Self.price, .greaterThan, .value(5))
        let below = Self.compare(Self.price, .lessThan, .value(8))
        let rows = try Self.run(
            [.all([above, below]), .any([.not(above), .not(below)]), .not(.not(above))], [4, 6, 9])
        #expect(Self.column(rows, 0) == [false, true, false])
        #expect(Self.column(rows, 1) == [true, false, true])
        #expect(Self.column(rows, 2) == [false, true, true])
    }

    @Test func macdAndBollingerFieldsAreRead() throws {
        let macd = IndicatorSpec.macd(fast: 2, slow: 3, signal: 2)
        let bands = IndicatorSpec.bollinger(period: 3, k: 1)
        let closes: [Double] = [1, 3, 2, 6, 4, 8, 2]
        var indicators = IndicatorSet()
        let plan = try RulePlan(
            [
                Self.compare(.indicator(IndicatorOperand(macd, field: .histogram)), .greaterThan, .value(0)),
                Self.compare(Self.price, .greaterThan, .indicator(IndicatorOperand(bands, field: .upper))),
            ], indicators: &indicators)
        var reference = (try macd.makeIndicator(), try bands.makeIndicator())
        for close in closes {
            indicators.update(interval: .m1, close: close, volume: 0)
            reference.0.update(close: close, volume: 0)
            reference.1.update(close: close, volume: 0)
            let histogram = reference.0.value(.histogram)
            let upper = reference.1.value(.upper)
            #expect(plan.evaluate(rule: 0, on: indicators) == (histogram.map { $0 > 0 } ?? false))
            #expect(plan.evaluate(rule: 1, on: indicators) == (upper.map { close > $0 } ?? false))
            #expect(indicators.value(of: IndicatorKey(macd), .signal) == reference.0.value(.signal))
        }
        #expect(plan.firingRules(on: indicators).count <= 2)
    }

    @Test func previousValuesAreThoseBeforeTheLatestClose() throws {
        var indicators = try IndicatorSet([
            IndicatorKey(.sma(period: 2)), IndicatorKey(.macd(fast: 2, slow: 3, signal: 2)),
        ])
        #expect(indicators.previousValue(0, .value) == nil)
        for close in [2.0, 4, 8] { indicators.update(interval: .m1, close: close, volume: 0) }
        #expect(indicators.value(0, .value) == 6)
        #expect(indicators.previousValue(0, .value) == 3)
        #expect(indicators.previousValue(0, .upper) == nil)
        #expect(indicators.previousValue(1, .macd) == nil)
        indicators.update(interval: .m1, close: 8, volume: 0)
        #expect(indicators.value(1, .histogram) != nil)
        #expect(indicators.previousValue(1, .histogram) == nil)
        indicators.update(interval: .m1, close: 8, volume: 0)
        #expect(indicators.previousValue(1, .histogram) != nil)
        #expect(indicators.previousValue(1, .value) == nil)
    }

    /// An indicator takes the closes of its own interval only; "previous" is the previous update of the set,
    /// so a cross with a 5m indicator holds at one 1m close, not for the five of the 5m candle.
    @Test func indicatorsFollowTheirInterval() throws {
        var indicators = IndicatorSet()
        let fiveMinutes = Operand.indicator(IndicatorOperand(.price, interval: .m5))
        let plan = try RulePlan([Self.compare(fiveMinutes, .crossesAbove, Self.price)], indicators: &indicators)
        indicators.update(interval: .m5, close: 10, volume: 0)
        indicators.update(interval: .m1, close: 12, volume: 0)
        indicators.update(interval: .m1, close: 11, volume: 0)
        #expect(!plan.evaluate(rule: 0, on: indicators))
        #expect(indicators.value(of: IndicatorKey(.price, interval: .m5)) == 10)
        // Both close: 5m goes 10 → 13 and 1m 11 → 12, so 5m crosses above.
        indicators.update([
            ClosedCandle(interval: .m1, close: 12, volume: 0), ClosedCandle(interval: .m5, close: 13, volume: 0),
        ])
        #expect(plan.evaluate(rule: 0, on: indicators))
        #expect(indicators.previousValue(0, .value) == 10)
        // The next 1m close: the 5m price did not move, nothing crosses.
        indicators.update(interval: .m1, close: 12, volume: 0)
        #expect(!plan.evaluate(rule: 0, on: indicators))
        #expect(indicators.previousValue(0, .value) == 13)
        #expect(indicators.value(of: IndicatorKey(.price, interval: .m5)) == 13)
        #expect(indicators.value(of: IndicatorKey(.price)) == 12)
        #expect(indicators.value(of: IndicatorKey(.volume)) == nil)
    }

    // MARK: - Sharing

    @Test func rulesShareOneInstancePerIndicatorAndInterval() throws {
        var indicators = IndicatorSet()
        let plan = try RulePlan(
            [
                Self.compare(Self.price, .crossesAbove, Self.sma(14)),
                .all([
                    Self.compare(Self.sma(14), .greaterThan, .value(100)),
                    Self.compare(Self.rsi(), .lessThan, .value(30)),
                ]),
            ], indicators: &indicators)
        #expect(indicators.count == 3)
        #expect(
            indicators.keys == [IndicatorKey(.price), IndicatorKey(.sma(period: 14)), IndicatorKey(.rsi(period: 14))])
        #expect(plan.keys == indicators.keys)
        // One sma(14) instance, whichever rule reads it.
        #expect(indicators.keys.filter { $0.spec == .sma(period: 14) }.count == 1)

        // A second strategy on the same symbol shares the set: only what is new is added.
        let other = try RulePlan(
            [
                Self.compare(Self.sma(14), .lessThan, Self.sma(14, .h1)),
                Self.compare(Self.sma(20), .lessThan, Self.price),
            ],
            indicators: &indicators)
        #expect(indicators.count == 5)
        #expect(
            other.keys == [
                IndicatorKey(.sma(period: 14)), IndicatorKey(.sma(period: 14), interval: .h1),
                IndicatorKey(.sma(period: 20)), IndicatorKey(.price),
            ])
        #expect(indicators.slot(of: IndicatorKey(.sma(period: 14))) == 1)
    }
}
