import Testing

@testable import Trading

/// Returns, drawdown, Sharpe, Sortino and win rate of daily equity, against values worked out by hand.
@Suite struct PerformanceStatisticsTests {
    static func point(_ day: Int64, _ equity: Int64, deposit: Int64 = 0) -> EquityPoint {
        EquityPoint(day: day, equity: Amount(units: equity), netDeposit: Amount(units: deposit))
    }

    static func close(_ actual: Double?, _ expected: Double) -> Bool {
        guard let actual else { return false }
        return abs(actual - expected) < 1e-9
    }

    /// 1000 → 1100 → 990 → 2089 with 1000 paid in on the last day: returns +10 %, −10 %, +10 %
    /// ((2089 − 1000) / 990 − 1), not +111 %.
    static let curve = [
        point(0, 1_000, deposit: 1_000), point(1, 1_100), point(2, 990), point(3, 2_089, deposit: 1_000),
    ]

    @Test func returnsLeaveDepositsOut() {
        let returns = PerformanceStatistics.dailyReturns(Self.curve)
        #expect(returns.count == 3)
        #expect(Self.close(returns[0], 0.1) && Self.close(returns[1], -0.1) && Self.close(returns[2], 0.1))
    }

    @Test func aWithdrawalIsNotALoss() {
        let returns = PerformanceStatistics.dailyReturns([
            Self.point(0, 1_000, deposit: 1_000), Self.point(1, 400, deposit: -600), Self.point(2, 440),
        ])
        #expect(Self.close(returns[0], 0) && Self.close(returns[1], 0.1))
        #expect(PerformanceStatistics.maxDrawdownPercent(returns) == 0)
    }

    @Test func aDayAfterNoEquityHasNoReturn() {
        let returns = PerformanceStatistics.dailyReturns([
            Self.point(0, 0), Self.point(1, 100, deposit: 100), Self.point(2, 110),
        ])
        #expect(returns.count == 1 && Self.close(returns[0], 0.1))
        #expect(PerformanceStatistics.dailyReturns([Self.point(0, 100)]).isEmpty)
        #expect(PerformanceStatistics.dailyReturns([]).isEmpty)
    }

    /// Returns +10 %, −10 %, +10 %: mean 1/30, sample deviation √(2/150) = 1/(√3·5), so Sharpe =
    /// (1/30)·5√3·√365 = √(365/12); downside deviation √(0.01/3), so Sortino = (1/30)·√300·√365 =
    /// √(365/3). Growth of one unit 1.1 → 0.99 → 1.089: drawdown (1.1 − 0.99) / 1.1 = 10 %.
    @Test func statisticsOfTheCurve() {
        let statistics = PerformanceStatistics(curve: Self.curve)
        #expect(Self.close(statistics.maxDrawdownPercent, 10))
        #expect(Self.close(statistics.sharpe, (365.0 / 12).squareRoot()))
        #expect(Self.close(statistics.sortino, (365.0 / 3).squareRoot()))
    }

    /// 100 → 120 → 90 → 130 → 65: the deepest fall is 130 → 65, 50 % (120 → 90 is only 25 %).
    @Test func drawdownIsTheDeepestPeakToTroughFall() {
        let curve = [Self.point(0, 100), Self.point(1, 120), Self.point(2, 90), Self.point(3, 130), Self.point(4, 65)]
        #expect(Self.close(PerformanceStatistics(curve: curve).maxDrawdownPercent, 50))
        #expect(PerformanceStatistics.maxDrawdownPercent([0.01, 0.02]) == 0)
        #expect(PerformanceStatistics.maxDrawdownPercent([]) == 0)
    }

    @Test func ratiosNeedTwoReturnsAndSomeDeviation() {
        #expect(PerformanceStatistics.sharpe([0.1]) == nil && PerformanceStatistics.sortino([-0.1]) == nil)
        #expect(PerformanceStatistics.sharpe([]) == nil && PerformanceStatistics.sortino([]) == nil)
        // No variation: no Sharpe; no loss: no Sortino.
        #expect(PerformanceStatistics.sharpe([0.01, 0.01]) == nil)
        #expect(PerformanceStatistics.sortino([0.01, 0.03]) == nil)
        // +3 %, +1 %: mean 2 %, deviation √2 %, Sharpe √2·√365.
        #expect(Self.close(PerformanceStatistics.sharpe([0.03, 0.01]), (2.0 * 365).squareRoot()))
        // −1 %, +3 %: mean 1 %, downside √(0.0001/2), Sortino √2·√365.
        #expect(Self.close(PerformanceStatistics.sortino([-0.01, 0.03]), (2.0 * 365).squareRoot()))
    }

    @Test func winRateIsTheShareOfProfitableSells() {
        #expect(PerformanceStatistics.winRate(sells: 0, winning: 0) == nil)
        #expect(PerformanceStatistics.winRate(sells: 4, winning: 3) == 0.75)
        #expect(PerformanceStatistics.winRate(sells: 2, winning: 0) == 0)
    }
}
