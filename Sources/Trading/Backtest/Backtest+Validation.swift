/// What a backtest refuses: rules it cannot run on its candles, and inputs that are not a series of candles.
extension Backtest {
    /// Every problem of `rules` for candles of `interval`, with paths `rules[i]…`: a count outside
    /// `StrategyDefinition.ruleCount`, each tree's own problems, and operands on another interval.
    public static func problems(of rules: [BacktestRule], interval: Timeframe) -> [RuleProblem] {
        var problems: [RuleProblem] = []
        let bounds = StrategyDefinition.ruleCount
        if !bounds.contains(rules.count) {
            problems.append(
                RuleProblem(
                    "rules", "a backtest holds \(bounds.lowerBound) to \(bounds.upperBound) rules, not \(rules.count)"))
        }
        for (index, rule) in rules.enumerated() {
            let treeProblems = rule.when.problems(at: .rule(index))
            problems +=
                treeProblems.isEmpty ? intervalProblems(of: rule.when, at: .rule(index), interval: interval) : []
        }
        return problems
    }

    /// The operands of `tree` (at `path`) on an interval other than the candles': at each operand's `interval`.
    /// Nodes deeper than `RuleTree.maxDepth` are not looked into (`RuleTree.problems(at:depth:)` refuses them).
    public static func intervalProblems(of tree: RuleTree, at path: RulePath, interval: Timeframe) -> [RuleProblem] {
        intervalProblems(of: tree, at: path, interval: interval, depth: 1)
    }

    private static func intervalProblems(of tree: RuleTree, at path: RulePath, interval: Timeframe, depth: Int)
        -> [RuleProblem]
    {
        guard depth <= RuleTree.maxDepth else { return [] }
        switch tree {
        case .all(let children), .any(let children):
            let path = path.appending(tree.name)
            return children.enumerated().flatMap { index, child in
                intervalProblems(of: child, at: path.appending(index: index), interval: interval, depth: depth + 1)
            }
        case .not(let child):
            return intervalProblems(of: child, at: path.appending("not"), interval: interval, depth: depth + 1)
        case .comparison(let comparison):
            return [("left", comparison.left), ("right", comparison.right)].compactMap { side, operand in
                guard let indicator = operand.indicator, indicator.interval != interval else { return nil }
                return RuleProblem(
                    path.appending(side).appending("interval"),
                    "the backtest's candles are \(interval.rawValue), the only interval its indicators can read, "
                        + "not \(indicator.interval.rawValue)")
            }
        }
    }

    /// Every problem of a backtest's input, with paths: `initial_cash` positive, `fee` within
    /// `BacktestFeeRate.range` (at `fee_bps`), at least one candle, each candle's own problems
    /// (`BacktestCandle.problems(at:)`) and open times strictly increasing (at `candles[i].open_time`).
    public static func inputProblems(candles: [BacktestCandle], initialCash: Amount, fee: BacktestFeeRate)
        -> [RuleProblem]
    {
        var problems: [RuleProblem] = []
        if candles.isEmpty { problems.append(RuleProblem("candles", "candles must hold at least one candle")) }
        for (index, candle) in candles.enumerated() {
            let path = RulePath([.member("candles"), .index(index)])
            problems += candle.problems(at: path)
            if index > 0, candle.openTime <= candles[index - 1].openTime {
                problems.append(
                    RuleProblem(
                        path.appending("open_time"),
                        "open_time must be after the previous candle's (candles[\(index - 1)])"
                    ))
            }
        }
        if initialCash.units <= 0 {
            problems.append(RuleProblem("initial_cash", "initial_cash must be positive"))
        }
        let range = BacktestFeeRate.range
        if !range.contains(fee) {
            problems.append(
                RuleProblem("fee_bps", "fee_bps must be from \(range.lowerBound) to \(range.upperBound)"))
        }
        return problems
    }
}
