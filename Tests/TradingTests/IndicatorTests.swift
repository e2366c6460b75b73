import Testing
import Trading

/// Indicators on tiny series worked out by hand, their warm-up, and the parameters they refuse.
@Suite struct IndicatorTests {
    /// Feeds `closes` into the indicator `spec` names and returns `field` after each close.
    static func run(_ spec: IndicatorSpec, _ closes: [Double], field: IndicatorField = .value) throws -> [Double?] {
        var indicator = try spec.makeIndicator()
        return closes.map { close in
            indicator.update(close: close, volume: 0)
            return indicator.value(field)
        }
    }

    static func close(_ actual: Double?, _ expected: Double) -> Bool {
        guard let actual else { return false }
        return abs(actual - expected) <= 1e-12 * max(1, abs(expected))
    }

    @Test func smaOfOneTwoThree() throws {
        #expect(try Self.run(.sma(period: 3), [1, 2, 3, 4, 10]) == [nil, nil, 2, 3, 17.0 / 3])
        #expect(try Self.run(.sma(period: 1), [5, 7]) == [5, 7])
    }

    /// EMA(3), k = 1/2: seeded with (1 + 2 + 3) / 3 = 2, then (4 − 2)/2 + 2 = 3, then (1 − 3)/2 + 3 = 2.
    @Test func emaIsSeededWithTheSimpleAverage() throws {
        #expect(try Self.run(.ema(period: 3), [1, 2, 3, 4, 1]) == [nil, nil, 2, 3, 2])
        var ema = try ExponentialMovingAverage(period: 9)
        #expect(ema.k == 0.2)
        ema.update(1)
        #expect(ema.value == nil)
    }

    @Test func rsiOfGainsOnlyIs100AndOfLossesOnlyIs0() throws {
        #expect(try Self.run(.rsi(period: 3), [1, 2, 3, 4, 5]) == [nil, nil, nil, 100, 100])
        #expect(try Self.run(.rsi(period: 3), [5, 4, 3, 2, 1]) == [nil, nil, nil, 0, 0])
        // No movement at all: TA-Lib says 0.
        #expect(try Self.run(.rsi(period: 2), [7, 7, 7, 7]) == [nil, nil, 0, 0])
    }

    /// RSI(2) of 1, 2, 1, 3: changes +1, −1 average to gain ½ and loss ½ (RSI 50); then +2 smooths them
    /// Wilder's way to gain (½ + 2)/2 = 5/4 and loss (½ + 0)/2 = 1/4: RSI 100 · (5/4) / (6/4) = 250/3.
    @Test func rsiSmoothsWildersWay() throws {
        let values = try Self.run(.rsi(period: 2), [1, 2, 1, 3])
        #expect(values[0] == nil && values[1] == nil)
        #expect(Self.close(values[2], 50))
        #expect(Self.close(values[3], 250.0 / 3))
    }

    /// MACD(2, 3, 2) of 1, 3, 2, 6, 4. Slow EMA(3), k = ½: 2, 4, 4 from the third close. Fast EMA(2), k = ⅔,
    /// aligned to it as TA-Lib does: seeded at the third close with (3 + 2)/2 (the first close never reaches
    /// it), then 29/6, 77/18. MACD line ½, 5/6, 5/18; signal EMA(2) seeded with (½ + 5/6)/2 = ⅔ at the fourth
    /// close, then ⅔ + (5/18 − ⅔)·⅔ = 11/27. TA-Lib's lookback is 3 + 2 − 2 = 3.
    @Test func macdAlignsTheFastAverageToTheSlowOne() throws {
        let closes: [Double] = [1, 3, 2, 6, 4]
        let line = try Self.run(.macd(fast: 2, slow: 3, signal: 2), closes, field: .macd)
        let signal = try Self.run(.macd(fast: 2, slow: 3, signal: 2), closes, field: .signal)
        let histogram = try Self.run(.macd(fast: 2, slow: 3, signal: 2), closes, field: .histogram)
        #expect(line[0...2].allSatisfy { $0 == nil } && signal[2] == nil && histogram[2] == nil)
        #expect(Self.close(line[3], 5.0 / 6) && Self.close(signal[3], 2.0 / 3) && Self.close(histogram[3], 1.0 / 6))
        #expect(Self.close(line[4], 5.0 / 18) && Self.close(signal[4], 11.0 / 27))
        #expect(Self.close(histogram[4], -7.0 / 54))
        #expect(IndicatorSpec.macd(fast: 12, slow: 26, signal: 9).lookback == 33)
    }

    /// Bollinger(3, 2) of 1, 2, 3: middle 2, population variance ((−1)² + 0 + 1²)/3 = ⅔; then 2, 3, 4 slides
    /// the window: middle 3, the same deviation.
    @Test func bollingerUsesThePopulationDeviation() throws {
        var bands = try BollingerBands(period: 3, k: 2)
        for close in [1.0, 2.0] {
            bands.update(close)
            #expect(bands.value == nil)
        }
        let deviation = (2.0 / 3).squareRoot()
        for (close, middle) in [(3.0, 2.0), (4.0, 3.0)] {
            bands.update(close)
            let value = try #require(bands.value)
            #expect(Self.close(value.middle, middle))
            #expect(Self.close(value.upper, middle + 2 * deviation) && Self.close(value.lower, middle - 2 * deviation))
            #expect(Self.close(bands.standardDeviation, deviation))
        }
        // A flat series has no width at all.
        let flat = try Self.run(.bollinger(period: 4, k: 2.5), [1.1, 1.1, 1.1, 1.1, 1.1, 1.1], field: .upper)
        #expect(flat == [nil, nil, nil, 1.1, 1.1, 1.1])
    }

    @Test func priceAndVolumeAreTheCandlesOwn() throws {
        var price = try IndicatorSpec.price.makeIndicator()
        var volume = try IndicatorSpec.volume.makeIndicator()
        #expect(price.value(.value) == nil && volume.value(.value) == nil)
        price.update(close: 1.5, volume: 7)
        volume.update(close: 1.5, volume: 7)
        #expect(price.value(.value) == 1.5 && volume.value(.value) == 7)
        #expect(price.lookback == 0)
    }

    @Test func aFieldTheIndicatorDoesNotHaveIsNil() throws {
        var macd = try IndicatorSpec.macd(fast: 1, slow: 2, signal: 1).makeIndicator()
        var sma = try IndicatorSpec.sma(period: 1).makeIndicator()
        for close in [1.0, 2.0, 3.0] {
            macd.update(close: close, volume: 0)
            sma.update(close: close, volume: 0)
        }
        #expect(macd.value(.macd) != nil && macd.value(.value) == nil && macd.value(.upper) == nil)
        #expect(sma.value(.value) == 3 && sma.value(.signal) == nil)
    }

    @Test func specsAreSharedByValue() throws {
        let specs: Set<IndicatorSpec> = [
            .sma(period: 20), .sma(period: 20), .bollinger(period: 20, k: 2), .bollinger(period: 20, k: 2.0),
            .macd(fast: 12, slow: 26, signal: 9), .price,
        ]
        #expect(specs.count == 4)
        for spec in specs { #expect(try spec.makeIndicator().spec == spec) }
        #expect(IndicatorSpec.bollinger(period: 20, k: 2).fields == [.upper, .middle, .lower])
        #expect(IndicatorSpec.rsi(period: 14).name == "rsi" && IndicatorSpec.rsi(period: 14).lookback == 14)
    }

    /// Indicators are values: a copy goes its own way.
    @Test func aCopyIsIndependent() throws {
        var original = try IndicatorSpec.sma(period: 2).makeIndicator()
        original.update(close: 1, volume: 0)
        original.update(close: 3, volume: 0)
        var copy = original
        copy.update(close: 5, volume: 0)
        #expect(original.value(.value) == 2 && copy.value(.value) == 4)
        original.update(close: 9, volume: 0)
        #expect(original.value(.value) == 6 && copy.value(.value) == 4)
    }
}
