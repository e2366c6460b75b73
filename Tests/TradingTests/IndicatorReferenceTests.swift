import TestSupport
import Testing
import Trading

/// The incremental indicators against plain batch definitions (recomputed from the whole window at every
/// close) on long seeded random walks, so that the ring buffers wrap many times and long periods are covered.
@Suite struct IndicatorReferenceTests {
    /// A random walk around `start` in steps of at most `step`.
    static func walk(seed: UInt64, count: Int, start: Double, step: Double) -> [Double] {
        var random = SeededRandom(seed: seed)
        var price = start
        return (0..<count).map { _ in
            price += Double(random.int(in: -20...20)) * step / 20
            return price
        }
    }

    static func agrees(_ actual: Double?, _ expected: Double?, tolerance: Double = 1e-9) -> Bool {
        switch (actual, expected) {
        case (nil, nil): true
        case (let actual?, let expected?): abs(actual - expected) <= tolerance * max(abs(expected), 1e-3)
        default: false
        }
    }

    // MARK: batch definitions

    static func sma(_ closes: [Double], _ period: Int, at index: Int) -> Double? {
        guard index >= period - 1 else { return nil }
        return closes[(index - period + 1)...index].reduce(0, +) / Double(period)
    }

    static func ema(_ values: [Double], _ period: Int) -> [Double?] {
        let k = 2.0 / Double(period + 1)
        var result = [Double?](repeating: nil, count: values.count)
        guard values.count >= period else { return result }
        var current = values[0..<period].reduce(0, +) / Double(period)
        result[period - 1] = current
        for index in period..<values.count {
            current += (values[index] - current) * k
            result[index] = current
        }
        return result
    }

    static func rsi(_ closes: [Double], _ period: Int) -> [Double?] {
        var result = [Double?](repeating: nil, count: closes.count)
        var gain = 0.0
        var loss = 0.0
        for index in 1..<closes.count {
            let change = closes[index] - closes[index - 1]
            let up = max(change, 0)
            let down = max(-change, 0)
            if index <= period {
                gain += up / Double(period)
                loss += down / Double(period)
                if index < period { continue }
            } else {
                gain = (gain * Double(period - 1) + up) / Double(period)
                loss = (loss * Double(period - 1) + down) / Double(period)
            }
            result[index] = gain + loss == 0 ? 0 : 100 * gain / (gain + loss)
        }
        return result
    }

    static func deviation(_ closes: [Double], _ period: Int, at index: Int) -> Double? {
        guard let mean = sma(closes, period, at: index) else { return nil }
        let squares = closes[(index - period + 1)...index].reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (squares / Double(period)).squareRoot()
    }

    // MARK: tests

    @Test(arguments: [1, 2, 7, 50, 1_000])
    func movingAveragesAndRSI(_ period: Int) throws {
        let closes = Self.walk(seed: UInt64(period), count: 6_000, start: 100, step: 0.5)
        var sma = try SimpleMovingAverage(period: period)
        var ema = try ExponentialMovingAverage(period: period)
        var rsi = try RelativeStrengthIndex(period: period)
        let expectedEMA = Self.ema(closes, period)
        let expectedRSI = Self.rsi(closes, period)
        for (index, close) in closes.enumerated() {
            sma.update(close)
            ema.update(close)
            rsi.update(close)
            let expectedSMA = Self.sma(closes, period, at: index)
            guard
                Self.agrees(sma.value, expectedSMA), Self.agrees(ema.value, expectedEMA[index]),
                Self.agrees(rsi.value, expectedRSI[index])
            else {
                let message: String =
                    "period \(period) at \(index): sma \(String(describing: sma.value)) vs \(String(describing: expectedSMA)), "
                    + "ema \(String(describing: ema.value)) vs \(String(describing: expectedEMA[index])), "
                    + "rsi \(String(describing: rsi.value)) vs \(String(describing: expectedRSI[index]))"
                Issue.record("\(message)")
                return
            }
        }
    }

    /// Deviations of a few pips around 1.1 (EURUSD-like), where a running sum of squares would lose most of
    /// its digits, over 20,000 closes: the deviation stays within 1e-9 relative of the two-pass one, or 1e-12 of
    /// the price when the window is (nearly) flat, and the bands within 1e-9 relative.
    @Test(arguments: [1, 2, 20, 333])
    func bollingerDeviationStaysPrecise(_ period: Int) throws {
        let closes = Self.walk(seed: 7 &+ UInt64(period), count: 20_000, start: 1.1, step: 0.0002)
        var bands = try BollingerBands(period: period, k: 2)
        for (index, close) in closes.enumerated() {
            bands.update(close)
            let expected = Self.deviation(closes, period, at: index)
            let middle = Self.sma(closes, period, at: index)
            let deviationAgrees: Bool =
                switch (bands.standardDeviation, expected, middle) {
                case (nil, nil, nil): true
                case (let actual?, let expected?, let middle?):
                    abs(actual - expected) <= 1e-9 * expected + 1e-12 * abs(middle)
                default: false
                }
            let upper = middle.flatMap { middle in expected.map { middle + 2 * $0 } }
            guard deviationAgrees, Self.agrees(bands.value?.middle, middle), Self.agrees(bands.value?.upper, upper)
            else {
                let message: String =
                    "period \(period) at \(index): deviation \(String(describing: bands.standardDeviation)) "
                    + "vs \(String(describing: expected))"
                Issue.record("\(message)")
                return
            }
        }
    }

    /// MACD as TA-Lib builds it from whole series: the slow EMA over all closes, the fast EMA over the closes
    /// from index `slow - fast`, their difference from index `slow - 1`, its EMA, output from the signal's first.
    @Test(arguments: [(1, 2, 1), (2, 3, 2), (12, 26, 9), (5, 13, 40), (3, 500, 100)])
    func macd(_ fast: Int, _ slow: Int, _ signal: Int) throws {
        let closes = Self.walk(seed: UInt64(slow), count: 4_000, start: 50, step: 0.3)
        let slowEMA = Self.ema(closes, slow)
        let fastEMA = [nil] + Self.ema(Array(closes[(slow - fast)...]), fast)
        let line = (slow - 1..<closes.count).map { fastEMA[$0 - (slow - fast) + 1]! - slowEMA[$0]! }
        let signalEMA = Self.ema(line, signal)
        var macd = try MACD(fast: fast, slow: slow, signal: signal)
        for (index, close) in closes.enumerated() {
            macd.update(close)
            guard index >= macd.lookback else {
                #expect(macd.value == nil)
                continue
            }
            let value = try #require(macd.value)
            let expectedLine = line[index - (slow - 1)]
            let expectedSignal = try #require(signalEMA[index - (slow - 1)])
            guard
                Self.agrees(value.macd, expectedLine), Self.agrees(value.signal, expectedSignal),
                Self.agrees(value.histogram, expectedLine - expectedSignal)
            else {
                Issue.record(
                    "macd(\(fast), \(slow), \(signal)) at \(index): \(value) vs \(expectedLine), \(expectedSignal)")
                return
            }
        }
    }
}
