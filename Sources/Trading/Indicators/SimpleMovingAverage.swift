/// The simple moving average of the last `period` closes (TA-Lib `SMA`): defined from the `period`-th close.
///
/// A running sum over a ring buffer, in TA-Lib's order of operations (add the new close, divide, then take out
/// the close that leaves next), so values match TA-Lib's to the last bits.
public struct SimpleMovingAverage: Indicator {
    public let period: Int
    private var window: SlidingWindow
    /// The sum of the values in the window, less the oldest once the window is full (as TA-Lib keeps it).
    private var total = 0.0
    public private(set) var value: Double?

    /// - Throws: `BourseError` with code `.validation` unless `period` is within `IndicatorSpec.periodRange`.
    public init(period: Int) throws(BourseError) {
        try IndicatorSpec.check(period: period, of: "sma")
        self.period = period
        window = SlidingWindow(capacity: period)
    }

    public var lookback: Int { period - 1 }

    public mutating func update(_ input: Double) {
        window.push(input)
        total += input
        guard window.isFull else { return }
        value = total / Double(period)
        total -= window.oldest
    }
}
