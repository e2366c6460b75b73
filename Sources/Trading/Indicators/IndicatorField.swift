/// One number an indicator yields: `value` for single-valued indicators, or a named output of MACD
/// (`macd`, `signal`, `histogram`) and of Bollinger bands (`upper`, `middle`, `lower`), as api.md names them.
public enum IndicatorField: String, Hashable, Sendable, CaseIterable {
    case value
    case macd
    case signal
    case histogram
    case upper
    case middle
    case lower
}
