/// Bollinger bands (TA-Lib `BBANDS` with a simple moving average, `nbdevup = nbdevdn = k`): the middle band is
/// the simple moving average of the last `period` closes, the upper and lower bands are `k` population standard
/// deviations of those closes above and below it. Defined from the `period`-th close.
///
/// O(1) per close over a ring buffer of the window: the middle band is a running sum in TA-Lib's order of
/// operations (the same as `SimpleMovingAverage`); the deviation comes from the window's sum and sum of squares,
/// kept as double-doubles (`WideSum`, exact products by fused multiply-add). A plain running sum of squares would
/// cancel away most digits when the deviation is tiny next to the price (EURUSD moves a few pips around 1.1) and
/// drift over a long run; the wide sums do neither, so a flat window has bands at the price to the last digits.
public struct BollingerBands: Indicator {
    /// The three bands at one close.
    public struct Output: Hashable, Sendable {
        public var upper: Double
        public var middle: Double
        public var lower: Double

        public init(upper: Double, middle: Double, lower: Double) {
            self.upper = upper
            self.middle = middle
            self.lower = lower
        }
    }

    public let period: Int
    /// How many standard deviations the outer bands are from the middle one.
    public let k: Double
    private var window: SlidingWindow
    /// The window's sum less its oldest value once full, kept as TA-Lib keeps its simple moving average's.
    private var total = 0.0
    /// The window's sum and sum of squares, wide.
    private var sum = WideSum()
    private var squares = WideSum()
    public private(set) var value: Output?

    /// - Throws: `BourseError` with code `.validation` unless `period` is within `IndicatorSpec.periodRange` and
    ///   `k` is positive and finite.
    public init(period: Int, k: Double) throws(BourseError) {
        try IndicatorSpec.check(period: period, k: k)
        self.period = period
        self.k = k
        window = SlidingWindow(capacity: period)
    }

    public var lookback: Int { period - 1 }

    /// The population standard deviation of the window, once it is full.
    public var standardDeviation: Double? {
        guard window.isFull else { return nil }
        let n = Double(period)
        return (WideSum.scaledVariance(count: n, squares: squares, sum: sum) / (n * n)).squareRoot()
    }

    public mutating func update(_ input: Double) {
        if let leaving = window.push(input) {
            sum.add(-leaving)
            squares.add(product: -leaving, leaving)
        }
        sum.add(input)
        squares.add(product: input, input)
        total += input
        guard window.isFull, let deviation = standardDeviation else { return }
        let middle = total / Double(period)
        total -= window.oldest
        let width = deviation * k
        value = Output(upper: middle + width, middle: middle, lower: middle - width)
    }
}
