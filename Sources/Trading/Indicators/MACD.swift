/// Moving average convergence/divergence (TA-Lib `MACD`): the fast EMA less the slow EMA (`macd`), its EMA
/// (`signal`) and their difference (`histogram`).
///
/// As TA-Lib's `MACD` (not `MACDEXT`): the slow EMA starts at the first close; the fast EMA is aligned to it,
/// seeded with the simple average of the `fast` closes that end where the slow EMA's first value is (close
/// number `slow`), so the first `slow - fast` closes never reach it. The MACD line so starts at close `slow`; the
/// signal EMA is seeded with the average of its first `signal` values. TA-Lib yields all three outputs only
/// once the signal is defined, from close number `slow + signal - 1` (lookback `slow + signal - 2`).
public struct MACD: Indicator {
    /// The three lines at one close.
    public struct Output: Hashable, Sendable {
        public var macd: Double
        public var signal: Double
        public var histogram: Double

        public init(macd: Double, signal: Double, histogram: Double) {
            self.macd = macd
            self.signal = signal
            self.histogram = histogram
        }
    }

    public let fast: Int
    public let slow: Int
    public let signal: Int
    private var fastAverage: ExponentialMovingAverage
    private var slowAverage: ExponentialMovingAverage
    private var signalAverage: ExponentialMovingAverage
    /// Closes seen, counted only until the fast EMA starts taking them.
    private var skipped = 0
    public private(set) var value: Output?

    /// - Throws: `BourseError` with code `.validation` unless each period is within `IndicatorSpec.periodRange`
    ///   and `fast < slow`.
    public init(fast: Int, slow: Int, signal: Int) throws(BourseError) {
        try IndicatorSpec.check(fast: fast, slow: slow, signal: signal)
        self.fast = fast
        self.slow = slow
        self.signal = signal
        fastAverage = ExponentialMovingAverage(validPeriod: fast)
        slowAverage = ExponentialMovingAverage(validPeriod: slow)
        signalAverage = ExponentialMovingAverage(validPeriod: signal)
    }

    public var lookback: Int { slow + signal - 2 }

    public mutating func update(_ input: Double) {
        slowAverage.update(input)
        if skipped < slow - fast {
            skipped += 1
            return
        }
        fastAverage.update(input)
        guard let fastValue = fastAverage.value, let slowValue = slowAverage.value else { return }
        let line = fastValue - slowValue
        signalAverage.update(line)
        guard let signalValue = signalAverage.value else { return }
        value = Output(macd: line, signal: signalValue, histogram: line - signalValue)
    }
}
