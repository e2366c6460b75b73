/// Which indicator, with which parameters: the identity under which an indicator instance is shared (one
/// instance per distinct spec on a symbol, updated once per close), and the factory of that instance.
///
/// Names and parameters are those of api.md's rule operands: `price`, `volume`, `sma`/`ema`/`rsi` with a
/// `period`, `macd` with `fast`, `slow` and `signal` periods, `bollinger` with a `period` and `k` (api.md's
/// `stddev`, the number of standard deviations). A spec may hold invalid parameters; `validate()` and
/// `makeIndicator()` reject them.
public enum IndicatorSpec: Hashable, Sendable {
    /// The candle's close.
    case price
    /// The candle's volume.
    case volume
    /// Simple moving average of the closes.
    case sma(period: Int)
    /// Exponential moving average of the closes, seeded with their simple average.
    case ema(period: Int)
    /// Wilder's relative strength index of the closes.
    case rsi(period: Int)
    /// MACD of the closes: requires `fast < slow`.
    case macd(fast: Int, slow: Int, signal: Int)
    /// Bollinger bands of the closes, `k` population standard deviations around their simple average.
    case bollinger(period: Int, k: Double)

    /// The periods allowed for every period parameter.
    public static let periodRange = 1...1000

    /// The indicator's name as api.md spells it.
    public var name: String {
        switch self {
        case .price: "price"
        case .volume: "volume"
        case .sma: "sma"
        case .ema: "ema"
        case .rsi: "rsi"
        case .macd: "macd"
        case .bollinger: "bollinger"
        }
    }

    /// The fields the indicator yields: `value`, or MACD's and Bollinger's named outputs.
    public var fields: [IndicatorField] {
        switch self {
        case .price, .volume, .sma, .ema, .rsi: [.value]
        case .macd: [.macd, .signal, .histogram]
        case .bollinger: [.upper, .middle, .lower]
        }
    }

    /// How many closes yield no value before the first one (TA-Lib's lookback).
    public var lookback: Int {
        switch self {
        case .price, .volume: 0
        case .sma(let period), .ema(let period), .bollinger(let period, _): period - 1
        case .rsi(let period): period
        case .macd(_, let slow, let signal): slow + signal - 2
        }
    }

    /// Throws unless the parameters make sense.
    ///
    /// - Throws: `BourseError` with code `.validation`: a period outside `periodRange`, MACD's `fast` not below
    ///   `slow`, Bollinger's `k` not positive and finite.
    public func validate() throws(BourseError) {
        switch self {
        case .price, .volume: return
        case .sma(let period), .ema(let period), .rsi(let period): try Self.check(period: period, of: name)
        case .macd(let fast, let slow, let signal): try Self.check(fast: fast, slow: slow, signal: signal)
        case .bollinger(let period, let k): try Self.check(period: period, k: k)
        }
    }

    /// A fresh incremental instance of this indicator.
    ///
    /// - Throws: what `validate()` throws.
    public func makeIndicator() throws(BourseError) -> AnyIndicator {
        try AnyIndicator(self)
    }

    static func check(period: Int, of name: String, parameter: String = "period") throws(BourseError) {
        guard periodRange.contains(period) else {
            throw .validation(
                "\(name) \(parameter) must be between \(periodRange.lowerBound) and \(periodRange.upperBound), "
                    + "not \(period)")
        }
    }

    static func check(fast: Int, slow: Int, signal: Int) throws(BourseError) {
        try check(period: fast, of: "macd", parameter: "fast period")
        try check(period: slow, of: "macd", parameter: "slow period")
        try check(period: signal, of: "macd", parameter: "signal period")
        guard fast < slow else {
            throw .validation("macd fast period (\(fast)) must be less than its slow period (\(slow))")
        }
    }

    static func check(period: Int, k: Double) throws(BourseError) {
        try check(period: period, of: "bollinger")
        guard k > 0, k.isFinite else { throw .validation("bollinger k (stddev) must be positive and finite") }
    }
}
