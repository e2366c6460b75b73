import Testing
import Trading

/// Parameters an indicator refuses: a `BourseError` with code `.validation` and a message naming the parameter.
@Suite struct IndicatorValidationTests {
    static func rejection(_ spec: IndicatorSpec) -> BourseError? {
        do {
            try spec.validate()
        } catch {
            // `makeIndicator()` must refuse what `validate()` refuses, with the same error.
            #expect(throws: error) { try spec.makeIndicator() }
            return error
        }
        #expect(throws: Never.self) { try spec.makeIndicator() }
        return nil
    }

    @Test(arguments: [0, -1, 1_001, Int.min, Int.max])
    func periodsOutsideOneToAThousandAreRefused(_ period: Int) {
        for spec in [IndicatorSpec.sma(period: period), .ema(period: period), .rsi(period: period)] {
            let error = Self.rejection(spec)
            #expect(error?.code == .validation)
            #expect(error?.message == "\(spec.name) period must be between 1 and 1000, not \(period)")
        }
        #expect(Self.rejection(.bollinger(period: period, k: 2))?.code == .validation)
        #expect(Self.rejection(.macd(fast: period, slow: 26, signal: 9))?.message.contains("fast period") == true)
        #expect(Self.rejection(.macd(fast: 12, slow: period, signal: 9)) != nil)
        #expect(Self.rejection(.macd(fast: 12, slow: 26, signal: period))?.message.contains("signal") == true)
    }

    @Test func theBoundsThemselvesAreAccepted() throws {
        for period in [1, 1_000] {
            #expect(Self.rejection(.sma(period: period)) == nil)
            #expect(Self.rejection(.ema(period: period)) == nil)
            #expect(Self.rejection(.rsi(period: period)) == nil)
            #expect(Self.rejection(.bollinger(period: period, k: 0.5)) == nil)
        }
        #expect(Self.rejection(.macd(fast: 1, slow: 1_000, signal: 1_000)) == nil)
        #expect(Self.rejection(.price) == nil && Self.rejection(.volume) == nil)
        #expect(try SimpleMovingAverage(period: 1_000).lookback == 999)
    }

    @Test func macdNeedsTheFastPeriodBelowTheSlowOne() {
        let equal = Self.rejection(.macd(fast: 12, slow: 12, signal: 9))
        #expect(equal?.code == .validation)
        #expect(equal?.message == "macd fast period (12) must be less than its slow period (12)")
        #expect(Self.rejection(.macd(fast: 26, slow: 12, signal: 9))?.code == .validation)
        #expect(throws: BourseError.self) { try MACD(fast: 3, slow: 2, signal: 1) }
    }

    @Test(arguments: [0.0, -2, .nan, .infinity, -.infinity])
    func bollingerNeedsAPositiveFiniteMultiplier(_ k: Double) {
        let error = Self.rejection(.bollinger(period: 20, k: k))
        #expect(error?.code == .validation)
        #expect(error?.message == "bollinger k (stddev) must be positive and finite")
        #expect(throws: BourseError.self) { try BollingerBands(period: 20, k: k) }
    }

    @Test func theConcreteTypesCheckTheirParametersToo() {
        #expect(throws: BourseError.self) { try SimpleMovingAverage(period: 0) }
        #expect(throws: BourseError.self) { try ExponentialMovingAverage(period: 1_001) }
        #expect(throws: BourseError.self) { try RelativeStrengthIndex(period: -3) }
        #expect(throws: BourseError.self) { try BollingerBands(period: 0, k: 2) }
    }
}
