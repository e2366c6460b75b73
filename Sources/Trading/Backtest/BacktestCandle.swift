/// One candle of a backtest's series as the client gives it: when it opened (milliseconds since 1970) and its
/// prices and volume.
///
/// Prices (in the quote currency per unit) and the volume are exact fixed-point amounts with 8 decimals, like
/// every amount of the exchange; only the indicators read the close and volume as `Double`, through
/// `ClosedCandle(interval:closeUnits:volumeUnits:)` as the live path does.
public struct BacktestCandle: Hashable, Sendable {
    public var openTime: Int64
    public var open: Amount
    public var high: Amount
    public var low: Amount
    public var close: Amount
    public var volume: Amount

    public init(openTime: Int64, open: Amount, high: Amount, low: Amount, close: Amount, volume: Amount) {
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    /// What is wrong with the candle's own values, each at its member's path under `path` (`candles[3].high`):
    /// prices must be positive, `high` not below `low`, `open` and `close` within `low…high`, and the volume not
    /// negative. The order of candles is `Backtest`'s to check.
    public func problems(at path: RulePath) -> [RuleProblem] {
        var problems: [RuleProblem] = []
        let prices = [("open", open), ("high", high), ("low", low), ("close", close)]
        for (name, price) in prices where price.units <= 0 {
            problems.append(RuleProblem(path.appending(name), "\(name) must be positive"))
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
        if volume.units < 0 {
            problems.append(RuleProblem(path.appending("volume"), "volume must not be negative"))
        }
        return problems
    }
}
