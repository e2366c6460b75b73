/// The width of a candle, as api.md's `interval` (`1m` … `1d`): the market data's candles (the Actors
/// module calls it `CandleInterval`) and the candles an indicator is computed on.
public enum Timeframe: String, Sendable, Hashable, CaseIterable {
    case m1 = "1m"
    case m5 = "5m"
    case m15 = "15m"
    case h1 = "1h"
    case h4 = "4h"
    case d1 = "1d"

    /// The interval an operand gets when it names none.
    public static let `default` = Timeframe.m1

    /// The candle width in milliseconds.
    public var millis: Int64 {
        switch self {
        case .m1: 60_000
        case .m5: 300_000
        case .m15: 900_000
        case .h1: 3_600_000
        case .h4: 14_400_000
        case .d1: 86_400_000
        }
    }
}
