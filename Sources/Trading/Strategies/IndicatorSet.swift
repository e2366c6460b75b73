/// The indicators a symbol's rules read: one `AnyIndicator` per distinct `IndicatorKey`, shared by every
/// rule that reads it, each updated once per close of its interval in O(1), with the values every indicator
/// had before the latest update kept for `crosses_above` and `crosses_below`.
///
/// Slots are numbered in insertion order and never move; `RulePlan` compiles operands to slots.
public struct IndicatorSet: Sendable {
    /// The key of each slot.
    public private(set) var keys: [IndicatorKey] = []
    private var slots: [IndicatorKey: Int] = [:]
    private var indicators: [AnyIndicator] = []
    private var previous: [Readings] = []

    public init() {}

    /// A set holding `keys` (duplicates once), in order.
    ///
    /// - Throws: `BourseError` with code `.validation` for an indicator with invalid parameters.
    public init(_ keys: some Sequence<IndicatorKey>) throws(BourseError) {
        for key in keys { try insert(key) }
    }

    /// The number of distinct indicator instances.
    public var count: Int { keys.count }

    /// The slot of `key`, if the set holds it.
    public func slot(of key: IndicatorKey) -> Int? { slots[key] }

    /// The slot of `key`, adding a fresh (warming-up) instance when the set does not hold it yet.
    ///
    /// - Throws: `BourseError` with code `.validation` for an indicator with invalid parameters.
    @discardableResult
    public mutating func insert(_ key: IndicatorKey) throws(BourseError) -> Int {
        if let slot = slots[key] { return slot }
        let indicator = try key.spec.makeIndicator()
        let slot = keys.count
        keys.append(key)
        slots[key] = slot
        indicators.append(indicator)
        previous.append(Readings())
        return slot
    }

    /// Takes the candles that closed at one moment, at most one per interval (a 5m candle closes with a 1m
    /// one): every indicator first remembers its values, then those on an interval that closed take their
    /// candle. So "previous" means "before this moment" for every indicator, and an indicator whose interval
    /// did not close keeps its value and crosses nothing.
    public mutating func update(_ candles: some Collection<ClosedCandle>) {
        for slot in indicators.indices {
            previous[slot] = Readings(indicators[slot])
            if let candle = candles.first(where: { $0.interval == keys[slot].interval }) {
                indicators[slot].update(close: candle.close, volume: candle.volume)
            }
        }
    }

    /// Takes the close of a candle of `interval`, the only one closing at that moment (see `update(_:)`).
    public mutating func update(interval: Timeframe, close: Double, volume: Double) {
        update(CollectionOfOne(ClosedCandle(interval: interval, close: close, volume: volume)))
    }

    /// The value of `field` after the latest close (`nil` while warming up or for a field it lacks).
    public func value(_ slot: Int, _ field: IndicatorField) -> Double? {
        indicators[slot].value(field)
    }

    /// The value of `field` before the latest update (`nil` before the first, or while it was warming up).
    public func previousValue(_ slot: Int, _ field: IndicatorField) -> Double? {
        previous[slot][field, of: keys[slot].spec]
    }

    /// The current value of `field` of the indicator `key`, if the set holds it.
    public func value(of key: IndicatorKey, _ field: IndicatorField = .value) -> Double? {
        slots[key].flatMap { value($0, field) }
    }
}

/// An indicator's values at one close: up to three fields, by their position in `IndicatorSpec.fields`.
private struct Readings: Sendable {
    var first: Double?
    var second: Double?
    var third: Double?

    init() {}

    init(_ indicator: AnyIndicator) {
        switch indicator.spec {
        case .macd:
            (first, second, third) = (indicator.value(.macd), indicator.value(.signal), indicator.value(.histogram))
        case .bollinger:
            (first, second, third) = (indicator.value(.upper), indicator.value(.middle), indicator.value(.lower))
        case .price, .volume, .sma, .ema, .rsi: first = indicator.value(.value)
        }
    }

    subscript(field: IndicatorField, of spec: IndicatorSpec) -> Double? {
        switch (spec, field) {
        case (.macd, .macd), (.bollinger, .upper): first
        case (.macd, .signal), (.bollinger, .middle): second
        case (.macd, .histogram), (.bollinger, .lower): third
        case (.macd, _), (.bollinger, _): nil
        case (_, .value): first
        default: nil
        }
    }
}
