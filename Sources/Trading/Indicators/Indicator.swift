/// An incremental technical indicator: fed one value per candle close, in O(1) time and O(period) memory.
///
/// Definitions and warm-up follow TA-Lib's (default compatibility, no unstable period): `value` is `nil`
/// exactly where TA-Lib's output is undefined (NaN), that is for the first `lookback` updates, and agrees with
/// TA-Lib to 1e-9 relative from then on (see `Tests/TradingTests/Fixtures`). Values are `Double`: indicators
/// are analytics, not money. Inputs are expected to be finite.
public protocol Indicator: Sendable {
    /// What the indicator yields once defined: a number, or a few named numbers (MACD, Bollinger bands).
    associatedtype Output: Sendable

    /// How many updates yield no value before the first one (TA-Lib's lookback): the first value comes with
    /// update number `lookback + 1`.
    var lookback: Int { get }

    /// The value after the latest update; `nil` while warming up.
    var value: Output? { get }

    /// Takes the next input (a candle's close, or its volume for the volume indicator).
    mutating func update(_ input: Double)
}
