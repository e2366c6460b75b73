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
/// - Each fill pays a fee in cash, `BacktestFeeRate` of its notional. Sells are matched against buys first in,
///   first out; each matched part is a round trip whose pnl is its share of the sell's proceeds less its share
///   of the buy's cost, that is `(exit − entry) × quantity` less its pro-rata share of both fees. A position
///   still open at the end is no round trip; it counts in the final equity.
/// - Equity is cash plus holdings marked at each close; statistics are those of `BacktestResult`. Sharpe
///   uses close-to-close returns, annualized with `periodsPerYear(of:)` (365 days a year, as markets trade
///   every day).
///
/// Money is exact, as everywhere in Trading: prices, quantities, cash, fees, pnl and equity are `Amount`s
/// (units of 10⁻⁸), and every product is computed exactly in 128 bits, then rounded once to 10⁻⁸:
/// - a buy's notional `price × quantity` is rounded **up** (what is paid), a sell's **down** (what is
///   received), and holdings are marked at a close rounded down, as a sell's notional;
/// - a fee is `notional × fee rate` on that rounded notional, rounded **up**, as the live ledger charges fees;
///   a buy costs notional + fee, a sell brings notional − fee;
/// - a round trip's share of a lot's cost is rounded up and its share of a sell's proceeds down, the last part
///   of each taking what is left, so the round trips' pnl adds up exactly to the cash they moved.
/// Rounding is therefore never in the trader's favour, and only ever by less than 10⁻⁸ per step. A buy whose
/// cost is beyond any amount is short of cash and skipped; a sell or a close that would take the cash or the
/// equity beyond the largest amount (`Int64.max` units) is refused with a validation error, never a trap.
///
/// Only the rules read floating point: each close and volume is handed to the `IndicatorSet` as a `Double`
/// (`ClosedCandle(interval:closeUnits:volumeUnits:)`), as the live path does, and the statistics are ratios
/// computed in `Double` from the exact equity. Every step is sequential, so the same input always gives the same result.
public struct Backtest: Sendable {
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

    /// Replays the rules over `candles`, starting with `initialCash` and no holdings, each fill paying `fee`.
    ///
    /// - Throws: `BourseError` with code `.validation` naming the first problem of the input
    ///   (`inputProblems(candles:initialCash:fee:)`), or the candle (`candles[i].open` or `.close`) at which the
    ///   cash or the equity would go beyond the largest amount.
    public func run(_ candles: [BacktestCandle], initialCash: Amount, fee: BacktestFeeRate) throws(BourseError)
        -> BacktestResult
    {
        if let problem = Self.inputProblems(candles: candles, initialCash: initialCash, fee: fee).first {
            throw .validation(problem.description)
        }
        var indicators = self.indicators
        var portfolio = BacktestPortfolio(cash: initialCash, feeRate: fee)
        var equity: [Amount] = []
        equity.reserveCapacity(candles.count)
        var pending: Int?
        for (index, candle) in candles.enumerated() {
            if let fired = pending {
                let rule = rules[fired]
                do {
                    try portfolio.fill(rule: fired, rule.side, rule.quantity, price: candle.open, at: candle.openTime)
                } catch {
                    throw .validation("candles[\(index)].open: \(error.message)")
                }
            }
            indicators.update(
                CollectionOfOne(
                    ClosedCandle(
                        interval: interval, closeUnits: Int128(candle.close.units),
                        volumeUnits: Int128(candle.volume.units))))
            pending = plan.firstFiringRule(on: indicators)
            guard let value = portfolio.equity(at: candle.close) else {
                throw .validation(
                    "candles[\(index)].close: the equity at this close is beyond the largest amount "
                        + "(\(Amount(units: .max)))")
            }
            equity.append(value)
        }
        return BacktestResult(
            initialCash: initialCash, equity: equity, trades: portfolio.trades, fills: portfolio.fills,
            skippedOrders: portfolio.skipped, periodsPerYear: Self.periodsPerYear(of: interval))
    }
}
