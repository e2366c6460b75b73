/// Risk and return statistics of a daily equity curve (ratios, so floating point).
///
/// - Daily return of day t: `r_t = (E_t − F_t) / E_{t−1} − 1`, where `E` is the equity at the end of a
///   day and `F_t` the day's net deposit, so money paid in or out is not a gain or a loss. The first
///   day has no return, nor has a day after one whose equity is not positive.
/// - Max drawdown: the largest fall from a peak to a later trough of the growth of one unit invested
///   (`W_0 = 1`, `W_t = W_{t−1}·(1 + r_t)`), as a positive percent; 0 without a fall. Without deposits
///   or withdrawals this is the drawdown of the equity curve itself.
/// - Sharpe: mean daily return / sample standard deviation of the daily returns × √365 (risk-free
///   rate 0; markets trade every day).
/// - Sortino: mean daily return / downside deviation × √365, the downside deviation being
///   √(Σ min(r_t, 0)² / n) over all n daily returns (target 0).
/// - Sharpe and Sortino are nil with fewer than 2 daily returns or a zero deviation.
public struct PerformanceStatistics: Sendable, Hashable {
    public static let periodsPerYear = 365.0

    public var returns: [Double]
    public var maxDrawdownPercent: Double
    public var sharpe: Double?
    public var sortino: Double?

    public init(curve: [EquityPoint]) {
        self.init(returns: PerformanceStatistics.dailyReturns(curve))
    }

    public init(returns: [Double]) {
        self.returns = returns
        maxDrawdownPercent = PerformanceStatistics.maxDrawdownPercent(returns)
        sharpe = PerformanceStatistics.sharpe(returns)
        sortino = PerformanceStatistics.sortino(returns)
    }

    /// `r_t = (E_t − F_t) / E_{t−1} − 1` for each day after the first whose previous equity is positive.
    public static func dailyReturns(_ curve: [EquityPoint]) -> [Double] {
        guard curve.count > 1 else { return [] }
        var returns: [Double] = []
        returns.reserveCapacity(curve.count - 1)
        for t in 1..<curve.count where curve[t - 1].equity.units > 0 {
            let gain = Double(curve[t].equity.units) - Double(curve[t].netDeposit.units)
            returns.append(gain / Double(curve[t - 1].equity.units) - 1)
        }
        return returns
    }

    /// The largest peak-to-trough fall of the growth of one unit, in percent (≥ 0).
    public static func maxDrawdownPercent(_ returns: [Double]) -> Double {
        var wealth = 1.0
        var peak = 1.0
        var deepest = 0.0
        for r in returns {
            wealth *= 1 + r
            peak = max(peak, wealth)
            if peak > 0 { deepest = max(deepest, (peak - wealth) / peak) }
        }
        return deepest * 100
    }

    /// Annualized Sharpe ratio (risk-free 0), nil with fewer than 2 returns or no variation.
    public static func sharpe(_ returns: [Double]) -> Double? {
        guard returns.count > 1 else { return nil }
        let mean = self.mean(returns)
        let variance = returns.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
        let deviation = variance.squareRoot()
        guard deviation > 0 else { return nil }
        return mean / deviation * periodsPerYear.squareRoot()
    }

    /// Annualized Sortino ratio (target 0), nil with fewer than 2 returns or no negative return.
    public static func sortino(_ returns: [Double]) -> Double? {
        guard returns.count > 1 else { return nil }
        let downside = returns.reduce(0.0) { $0 + min($1, 0) * min($1, 0) } / Double(returns.count)
        let deviation = downside.squareRoot()
        guard deviation > 0 else { return nil }
        return mean(returns) / deviation * periodsPerYear.squareRoot()
    }

    /// The share of realizing trades (settled sell fills) whose realized P&L was positive, nil
    /// without any.
    public static func winRate(sells: Int, winning: Int) -> Double? {
        guard sells > 0 else { return nil }
        return Double(winning) / Double(sells)
    }

    private static func mean(_ values: [Double]) -> Double {
        values.reduce(0, +) / Double(values.count)
    }
}
