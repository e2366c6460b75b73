/// One candle of a backtest's series as the client gives it: when it opened (milliseconds since 1970) and its
/// prices and volume.
///
/// Prices are floating point: a backtest is a stateless simulation over client-given numbers, not money the
/// exchange holds (see `Backtest`).
public struct BacktestCandle: Hashable, Sendable {
    public var openTime: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    public init(openTime: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    /// What is wrong with the candle's own values, each at its member's path under `path` (`candles[3].high`):
    /// prices must be positive and finite, `high` not below `low`, `open` and `close` within `low…high`, and the
    /// volume finite and not negative. The order of candles is `Backtest`'s to check.
    public func problems(at path: RulePath) -> [RuleProblem] {
        var problems: [RuleProblem] = []
        let prices = [("open", open), ("high", high), ("low", low), ("close", close)]
        for (name, price) in prices where !(price > 0 && price.isFinite) {
            problems.append(RuleProblem(path.appending(name), "\(name) must be a positive finite number"))
        }
        if problems.isEmpty {
            if high < low {
                problems.append(RuleProblem(path.appending("high"), "high must not be below low"))
            } else {
                for (name, price) in [("open", open), ("close", close)] where !(low...high).contains(price) {
                    problems.append(RuleProblem(path.appending(name), "\(name) must lie between low and high"))
                }
            }
        }
        if !(volume >= 0 && volume.isFinite) {
            problems.append(RuleProblem(path.appending("volume"), "volume must be a finite number, not negative"))
        }
        return problems
    }
}
