/// Wilder's relative strength index (TA-Lib `RSI`), 0 to 100.
///
/// As TA-Lib: the first value comes with close number `period + 1`, from the simple averages of the first
/// `period` gains and losses (close-to-close changes); after that both averages are smoothed Wilder's way,
/// `average = (average * (period - 1) + change) / period`. RSI = `100 * gain / (gain + loss)`, and 0 when
/// there was no movement at all (gain and loss both zero), as TA-Lib returns.
public struct RelativeStrengthIndex: Indicator {
    public let period: Int
    private var previousClose: Double?
    private var changes = 0
    private var gain = 0.0
    private var loss = 0.0
    public private(set) var value: Double?

    /// - Throws: `BourseError` with code `.validation` unless `period` is within `IndicatorSpec.periodRange`.
    ///   (TA-Lib itself takes periods from 2; period 1 follows the same formulas: 100 after a rise, 0 after a
    ///   fall or no change.)
    public init(period: Int) throws(BourseError) {
        try IndicatorSpec.check(period: period, of: "rsi")
        self.period = period
    }

    public var lookback: Int { period }

    public mutating func update(_ input: Double) {
        guard let previous = previousClose else {
            previousClose = input
            return
        }
        previousClose = input
        let change = input - previous
        let divisor = Double(period)
        if changes < period {
            // The first `period` changes: plain sums, averaged once complete.
            changes += 1
            if change < 0 { loss -= change } else { gain += change }
            guard changes == period else { return }
            loss /= divisor
            gain /= divisor
        } else {
            // Wilder's smoothing, in TA-Lib's order of operations.
            let carried = Double(period - 1)
            loss *= carried
            gain *= carried
            if change < 0 { loss -= change } else { gain += change }
            loss /= divisor
            gain /= divisor
        }
        let movement = gain + loss
        value = movement == 0 ? 0 : 100 * (gain / movement)
    }
}
