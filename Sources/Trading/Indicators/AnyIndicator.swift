/// One incremental indicator of any kind, made from an `IndicatorSpec`: what a symbol keeps per distinct spec,
/// updated once per candle close.
///
/// A value type whose update runs in place: the one concrete indicator it holds sits in its own optional
/// stored property and is mutated through it (`sma!.update(close)`), so nothing is copied per close; an enum
/// with the indicators as payloads would move its largest payload (MACD's) out and back on every update, and
/// `any Indicator` would box it.
public struct AnyIndicator: Sendable {
    /// The spec this instance was made from.
    public let spec: IndicatorSpec
    private var latest: LatestValue?
    private var sma: SimpleMovingAverage?
    private var ema: ExponentialMovingAverage?
    private var rsi: RelativeStrengthIndex?
    private var macd: MACD?
    private var bollinger: BollingerBands?

    /// A fresh instance of the indicator `spec` names.
    ///
    /// - Throws: `BourseError` with code `.validation` for invalid parameters (see `IndicatorSpec.validate()`).
    public init(_ spec: IndicatorSpec) throws(BourseError) {
        self.spec = spec
        switch spec {
        case .price, .volume: latest = LatestValue()
        case .sma(let period): sma = try SimpleMovingAverage(period: period)
        case .ema(let period): ema = try ExponentialMovingAverage(period: period)
        case .rsi(let period): rsi = try RelativeStrengthIndex(period: period)
        case .macd(let fast, let slow, let signal): macd = try MACD(fast: fast, slow: slow, signal: signal)
        case .bollinger(let period, let k): bollinger = try BollingerBands(period: period, k: k)
        }
    }

    /// How many closes yield no value before the first one (TA-Lib's lookback).
    public var lookback: Int { spec.lookback }

    /// Takes one candle: its close, and its volume (read by the volume indicator only).
    public mutating func update(close: Double, volume: Double) {
        switch spec {
        case .price: latest!.update(close)
        case .volume: latest!.update(volume)
        case .sma: sma!.update(close)
        case .ema: ema!.update(close)
        case .rsi: rsi!.update(close)
        case .macd: macd!.update(close)
        case .bollinger: bollinger!.update(close)
        }
    }

    /// The current value of `field`: `nil` while the indicator warms up, and for a field it does not have
    /// (`IndicatorSpec.fields` lists those it has).
    public func value(_ field: IndicatorField) -> Double? {
        switch spec {
        case .price, .volume: return field == .value ? latest!.value : nil
        case .sma: return field == .value ? sma!.value : nil
        case .ema: return field == .value ? ema!.value : nil
        case .rsi: return field == .value ? rsi!.value : nil
        case .macd:
            guard let output = macd!.value else { return nil }
            switch field {
            case .macd: return output.macd
            case .signal: return output.signal
            case .histogram: return output.histogram
            default: return nil
            }
        case .bollinger:
            guard let output = bollinger!.value else { return nil }
            switch field {
            case .upper: return output.upper
            case .middle: return output.middle
            case .lower: return output.lower
            default: return nil
            }
        }
    }
}
