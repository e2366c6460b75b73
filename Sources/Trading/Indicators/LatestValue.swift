/// The latest input as is: the `price` indicator (fed candle closes) and the `volume` indicator (fed candle
/// volumes). Defined from the first update on.
public struct LatestValue: Indicator, Hashable {
    public private(set) var value: Double?

    public init() {}

    public var lookback: Int { 0 }

    public mutating func update(_ input: Double) {
        value = input
    }
}
