/// The identity of a shared indicator instance: which indicator on which candle interval.
public struct IndicatorKey: Hashable, Sendable, CustomStringConvertible {
    public var spec: IndicatorSpec
    public var interval: Timeframe

    public init(_ spec: IndicatorSpec, interval: Timeframe = .default) {
        self.spec = spec
        self.interval = interval
    }

    public var description: String { "\(spec.name)@\(interval.rawValue)" }
}
