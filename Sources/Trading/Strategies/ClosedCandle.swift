/// A candle of one interval as indicators take it: its close and its volume.
public struct ClosedCandle: Hashable, Sendable {
    public var interval: Timeframe
    public var close: Double
    public var volume: Double

    public init(interval: Timeframe, close: Double, volume: Double) {
        self.interval = interval
        self.close = close
        self.volume = volume
    }

    /// A candle whose close and volume are exact fixed-point amounts in units of 10⁻⁸ (wide enough for a price
    /// in ticks times the tick size): each is divided once, so `50000.25` becomes the nearest `Double`, as when
    /// parsed. The one place where the live markets and the backtester turn money into indicator input.
    public init(interval: Timeframe, closeUnits: Int128, volumeUnits: Int128) {
        self.init(
            interval: interval, close: Double(closeUnits) / Double(Amount.unitsPerCoin),
            volume: Double(volumeUnits) / Double(Amount.unitsPerCoin))
    }
}
