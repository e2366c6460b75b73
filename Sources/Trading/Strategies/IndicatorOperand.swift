/// An indicator (the close and the volume count as indicators), the field read from it, and the candle
/// interval it is computed on.
public struct IndicatorOperand: Hashable, Sendable {
    public var spec: IndicatorSpec
    /// Which output: required for MACD and Bollinger bands, absent for single-valued indicators.
    public var field: IndicatorField?
    public var interval: Timeframe

    public init(_ spec: IndicatorSpec, field: IndicatorField? = nil, interval: Timeframe = .default) {
        self.spec = spec
        self.field = field
        self.interval = interval
    }

    /// The field the operand reads: its own, or `value` for single-valued indicators.
    public var readField: IndicatorField { field ?? .value }

    /// The shared indicator instance this operand reads.
    public var key: IndicatorKey { IndicatorKey(spec, interval: interval) }
}
