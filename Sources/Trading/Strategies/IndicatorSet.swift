/// The indicators a symbol's rules read: one `AnyIndicator` per distinct `IndicatorKey`, shared by every
/// rule that reads it, each updated once per close of its interval in O(1), with the values every indicator
/// had before the latest update kept for `crosses_above` and `crosses_below`.
///
/// Slots are numbered in insertion order and never move; `RulePlan` compiles operands to slots.
///
/// Every update also lays the values out flat (`readings`): per slot, its fields' current values then their
/// values before the update, so that a compiled rule reads any of them with one load.
public struct IndicatorSet: Sendable {
    /// The key of each slot.
    public private(set) var keys: [IndicatorKey] = []
    private var slots: [IndicatorKey: Int] = [:]
    private var indicators: [AnyIndicator] = []
    /// `stride` numbers per slot: the current value of each field (by its position in `IndicatorSpec.fields`),
    /// then, `previousOffset` further, the value before the latest update; `undefined` where there is none.
    private(set) var readings: [Double] = []

    /// How many readings each slot has.
    static let stride = 6
    /// How far a field's previous value is from its current one in `readings`.
    static let previousOffset = 3
    /// What `readings` holds for a value that is not defined: a NaN whose payload arithmetic on numbers never
    /// yields, so that a NaN an indicator computes (from non-finite input) is still a defined value, as it was
    /// before values were laid out flat. Tested by bit pattern (`undefinedPattern`), never with `isNaN`.
    static let undefined = Double(bitPattern: undefinedPattern)
    static let undefinedPattern: UInt64 = 0x7FF8_0000_0000_0B5E

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
        readings.append(contentsOf: repeatElement(Self.undefined, count: Self.stride))
        return slot
    }

    /// Takes the candles that closed at one moment, at most one per interval (a 5m candle closes with a 1m
    /// one): every indicator first remembers its values, then those on an interval that closed take their
    /// candle. So "previous" means "before this moment" for every indicator, and an indicator whose interval
    /// did not close keeps its value and crosses nothing.
    public mutating func update(_ candles: some Collection<ClosedCandle>) {
        for slot in indicators.indices {
            let base = slot * Self.stride
            for position in 0..<Self.previousOffset {
                readings[base + Self.previousOffset + position] = readings[base + position]
            }
            if let candle = candles.first(where: { $0.interval == keys[slot].interval }) {
                indicators[slot].update(close: candle.close, volume: candle.volume)
                storeReadings(of: slot)
            }
        }
    }

    /// Takes the close of a candle of `interval`, the only one closing at that moment (see `update(_:)`).
    public mutating func update(interval: Timeframe, close: Double, volume: Double) {
        update(CollectionOfOne(ClosedCandle(interval: interval, close: close, volume: volume)))
    }

    /// The value of `field` after the latest close (`nil` while warming up or for a field it lacks).
    public func value(_ slot: Int, _ field: IndicatorField) -> Double? {
        readingIndex(slot, field, previous: false).flatMap(reading)
    }

    /// The value of `field` before the latest update (`nil` before the first, or while it was warming up).
    public func previousValue(_ slot: Int, _ field: IndicatorField) -> Double? {
        readingIndex(slot, field, previous: true).flatMap(reading)
    }

    /// The current value of `field` of the indicator `key`, if the set holds it.
    public func value(of key: IndicatorKey, _ field: IndicatorField = .value) -> Double? {
        slots[key].flatMap { value($0, field) }
    }

    /// Where `readings` holds the value of `field` of `slot` (before the latest update if `previous`), or `nil`
    /// for a field the indicator lacks.
    func readingIndex(_ slot: Int, _ field: IndicatorField, previous: Bool) -> Int? {
        guard let position = Self.position(of: field, in: keys[slot].spec) else { return nil }
        return slot * Self.stride + (previous ? Self.previousOffset : 0) + position
    }

    private func reading(_ index: Int) -> Double? {
        readings[index].bitPattern == Self.undefinedPattern ? nil : readings[index]
    }

    /// Copies the current values of `slot`'s indicator into `readings`.
    private mutating func storeReadings(of slot: Int) {
        let base = slot * Self.stride
        switch keys[slot].spec {
        case .macd:
            readings[base] = indicators[slot].value(.macd) ?? Self.undefined
            readings[base + 1] = indicators[slot].value(.signal) ?? Self.undefined
            readings[base + 2] = indicators[slot].value(.histogram) ?? Self.undefined
        case .bollinger:
            readings[base] = indicators[slot].value(.upper) ?? Self.undefined
            readings[base + 1] = indicators[slot].value(.middle) ?? Self.undefined
            readings[base + 2] = indicators[slot].value(.lower) ?? Self.undefined
        case .price, .volume, .sma, .ema, .rsi: readings[base] = indicators[slot].value(.value) ?? Self.undefined
        }
    }

    /// The position of `field` in `spec.fields`, if the indicator has it.
    static func position(of field: IndicatorField, in spec: IndicatorSpec) -> Int? {
        switch (spec, field) {
        case (.macd, .macd), (.bollinger, .upper): 0
        case (.macd, .signal), (.bollinger, .middle): 1
        case (.macd, .histogram), (.bollinger, .lower): 2
        case (.macd, _), (.bollinger, _): nil
        case (_, .value): 0
        default: nil
        }
    }
}
