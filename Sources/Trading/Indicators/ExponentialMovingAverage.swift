/// The exponential moving average (TA-Lib `EMA`), smoothing factor `2 / (period + 1)`.
///
/// As TA-Lib: undefined for the first `period - 1` closes, seeded at the `period`-th with the simple average of
/// the first `period` closes, then `ema += (close - ema) * k`.
public struct ExponentialMovingAverage: Indicator {
    public let period: Int
    /// The smoothing factor, `2 / (period + 1)`.
    public let k: Double
    private var seen = 0
    private var seedTotal = 0.0
    public private(set) var value: Double?

    /// - Throws: `BourseError` with code `.validation` unless `period` is within `IndicatorSpec.periodRange`.
    public init(period: Int) throws(BourseError) {
        try IndicatorSpec.check(period: period, of: "ema")
        self.init(validPeriod: period)
    }

    /// An EMA whose period the caller has already checked (MACD's three).
    init(validPeriod period: Int) {
        self.period = period
        k = 2.0 / Double(period + 1)
    }

    public var lookback: Int { period - 1 }

    public mutating func update(_ input: Double) {
        if let previous = value {
            value = (input - previous) * k + previous
            return
        }
        seen += 1
        seedTotal += input
        if seen == period { value = seedTotal / Double(period) }
    }
}
