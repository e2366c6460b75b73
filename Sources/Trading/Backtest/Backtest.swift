/// A strategy's rules replayed over given candles (api.md, `POST /v1/backtests`), with the same indicator and
/// rule code as live evaluation: an `IndicatorSet` updated at each close and a `RulePlan` evaluated on it.
///
/// - Candles are of one interval, `interval`; every indicator is computed on them, so an operand must name
///   that interval (`intervalProblems(of:interval:)`).
/// - At each candle's close the indicators take the close and volume, then the first rule that holds (in
///   order) places its order, as a live strategy fires its first rule that holds: at most one order per close.
///   It fills at the next candle's open; an order placed at the last close has no next open and never fills.
///   There is no cooldown.
/// - Long only. A buy fills only if the cash covers its notional plus fee; otherwise it is skipped (as the
///   exchange refuses an order it cannot reserve funds for). A sell fills for what is held, up to its
///   quantity (no short selling), and is skipped when nothing is held.
/// - Each fill pays `notional × feeBps / 10 000` in cash. Sells are matched against buys first in, first
///   out; each matched part is a round trip whose pnl is `(exit − entry) × quantity` less its pro-rata share
///   of both fees. A position still open at the end is no round trip; it counts in the final equity.
/// - Equity is cash plus holdings marked at each close; statistics are those of `BacktestResult`. Sharpe
///   uses close-to-close returns, annualized with `periodsPerYear(of:)` (365 days a year, as markets trade
///   every day).
///
/// Cash and prices are `Double`: a backtest is a stateless simulation over floating-point candles the client
/// gives, and holds no money, so it is the one place in Trading that computes money in floating point.
/// Quantities and holdings stay exact (`Amount`). Every step is sequential, so the same input always gives
/// the same result, bit for bit.
public struct Backtest: Sendable {
    /// The fees allowed, in basis points of notional.
    public static let feeRange = 0.0...1000.0

    public let rules: [BacktestRule]
    /// The interval of the candles, which every indicator is computed on.
    public let interval: Timeframe
    private let plan: RulePlan
    /// The indicators the plan reads, before any candle.
    private let indicators: IndicatorSet

    /// Validates and compiles `rules` for candles of `interval`.
    ///
    /// - Throws: `BourseError` with code `.invalidStrategy` naming the first problem (paths `rules[i]…`) and how
    ///   many there are: a rule count outside `StrategyDefinition.ruleCount`, an impossible tree, an operand on
    ///   another interval; `.validation` for a quantity that is not positive.
    public init(rules: [BacktestRule], interval: Timeframe = .default) throws(BourseError) {
        for (index, rule) in rules.enumerated() where rule.quantity.units <= 0 {
            throw .validation("rules[\(index)].action.quantity: quantity must be positive")
        }
        let problems = Self.problems(of: rules, interval: interval)
        if let first = problems.first {
            let more = problems.count > 1 ? " (and \(problems.count - 1) more)" : ""
            throw BourseError(.invalidStrategy, "\(first)\(more)")
        }
        var indicators = IndicatorSet()
        plan = try RulePlan(rules.map(\.when), indicators: &indicators)
        self.indicators = indicators
        self.rules = rules
        self.interval = interval
    }

    /// How many candles of `interval` make a year: 365 days' worth.
    public static func periodsPerYear(of interval: Timeframe) -> Double {
        Double(365 * Timeframe.d1.millis) / Double(interval.millis)
    }

    /// Replays the rules over `candles`, starting with `initialCash` and no holdings.
    ///
    /// - Throws: `BourseError` with code `.validation` naming the first problem of the input
    ///   (`inputProblems(candles:initialCash:feeBps:)`).
    public func run(_ candles: [BacktestCandle], initialCash: Double, feeBps: Double) throws(BourseError)
        -> BacktestResult
    {
        if let problem = Self.inputProblems(candles: candles, initialCash: initialCash, feeBps: feeBps).first {
            throw .validation(problem.description)
        }
        var indicators = self.indicators
        var portfolio = BacktestPortfolio(cash: initialCash, feeBps: feeBps)
        var equity: [Double] = []
        equity.reserveCapacity(candles.count)
        var pending: Int?
        for candle in candles {
            if let index = pending {
                let rule = rules[index]
                portfolio.fill(rule: index, rule.side, rule.quantity, price: candle.open, at: candle.openTime)
            }
            indicators.update(interval: interval, close: candle.close, volume: candle.volume)
            pending = rules.indices.first { plan.evaluate(rule: $0, on: indicators) }
            equity.append(portfolio.equity(at: candle.close))
        }
        return BacktestResult(
            initialCash: initialCash, equity: equity, trades: portfolio.trades, fills: portfolio.fills,
            skippedOrders: portfolio.skipped, periodsPerYear: Self.periodsPerYear(of: interval))
    }
}
