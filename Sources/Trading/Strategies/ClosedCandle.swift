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
}
