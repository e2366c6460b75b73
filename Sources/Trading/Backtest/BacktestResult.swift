/// What a backtest found: its round trips, the equity marked at each close, and the statistics of that curve
/// (see `Backtest` for how each is defined).
///
/// Money (cash, equity, pnl) is exact (`Amount`); the statistics are ratios, computed in `Double` from those
/// exact amounts.
public struct BacktestResult: Hashable, Sendable {
    /// The round trips, in the order their sells filled (a sell that closes several lots gives one per lot).
    public var trades: [BacktestTrade]
    /// Every fill, in order.
    public var fills: [BacktestFill]
    /// Orders that did not fill: a buy short of cash, a sell with nothing held. Orders that fired at the last
    /// close have no next open and are not counted.
    public var skippedOrders: Int
    public var initialCash: Amount
    /// Cash plus holdings marked at each candle's close.
    public var equity: [Amount]
    /// The equity at the last close.
    public var finalEquity: Amount
    /// `(finalEquity − initialCash) / initialCash × 100`.
    public var returnPercent: Double
    /// The largest fall of `equity` from a peak (the initial cash included) to a later close, in percent of the
    /// peak; 0 without a fall.
    public var maxDrawdownPercent: Double
    /// The annualized Sharpe ratio of the returns from close to close; nil with fewer than two returns or when
    /// they do not vary.
    public var sharpe: Double?
    /// Winning round trips (pnl > 0) over all round trips; nil without any.
    public var winRate: Double?

    /// The number of round trips.
    public var tradeCount: Int { trades.count }

    /// The result of a simulation that ended with `equity` (one value per close, none negative) and these
    /// trades, from a positive `initialCash`.
    /// - Parameter periodsPerYear: how many candles make a year, for the Sharpe ratio.
    public init(
        initialCash: Amount, equity: [Amount], trades: [BacktestTrade], fills: [BacktestFill], skippedOrders: Int,
        periodsPerYear: Double
    ) {
        self.initialCash = initialCash
        self.equity = equity
        self.trades = trades
        self.fills = fills
        self.skippedOrders = skippedOrders
        finalEquity = equity.last ?? initialCash
        // Both are within 0…Int64.max, so the difference is exact.
        returnPercent = Double(finalEquity.units - initialCash.units) / Double(initialCash.units) * 100
        maxDrawdownPercent = Self.maxDrawdownPercent(equity, from: initialCash)
        sharpe = Self.sharpe(Self.returns(equity), periodsPerYear: periodsPerYear)
        let wins = trades.count { $0.pnl.units > 0 }
        winRate = trades.isEmpty ? nil : Double(wins) / Double(trades.count)
    }

    /// `equity[t] / equity[t − 1] − 1` for each close after the first whose previous equity is positive.
    public static func returns(_ equity: [Amount]) -> [Double] {
        guard equity.count > 1 else { return [] }
        return (1..<equity.count).compactMap { t in
            equity[t - 1].units > 0 ? Double(equity[t].units) / Double(equity[t - 1].units) - 1 : nil
        }
    }

    /// The largest `(peak − equity) / peak × 100` over the closes, the peak being the highest equity so far
    /// (starting at `initial`); amounts not negative, so `peak − equity` is exact.
    public static func maxDrawdownPercent(_ equity: [Amount], from initial: Amount) -> Double {
        var peak = initial
        var deepest = 0.0
        for value in equity {
            peak = max(peak, value)
            if peak.units > 0 { deepest = max(deepest, Double(peak.units - value.units) / Double(peak.units)) }
        }
        return deepest * 100
    }

    /// mean / sample standard deviation × √`periodsPerYear` (risk-free rate 0), as the portfolio's Sharpe ratio
    /// is computed from daily returns; nil with fewer than 2 returns or a zero deviation.
    public static func sharpe(_ returns: [Double], periodsPerYear: Double) -> Double? {
        guard returns.count > 1 else { return nil }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
        let deviation = variance.squareRoot()
        guard deviation > 0 else { return nil }
        return mean / deviation * periodsPerYear.squareRoot()
    }
}
