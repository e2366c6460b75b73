import Trading

/// The closed candles as indicators take them.
extension MarketData {
    /// Every retained closed candle (the last candle of each interval is still open), grouped by the moment
    /// it closed and oldest moment first, as `IndicatorSet.update(_:)` takes them.
    ///
    /// A candle closed at the first trade of the next candle of its interval; that trade opened a one-minute
    /// candle too (the first at or after the next candle's open), whose open time names the moment. Candles
    /// older than the one-minute candles kept are placed at their next candle's open.
    func closedMoments(spec: MarketSpec) -> [[ClosedCandle]] {
        let minutes = candles[.m1] ?? []
        var moments: [Int64: [ClosedCandle]] = [:]
        for interval in CandleInterval.allCases {
            let series = candles[interval] ?? []
            guard series.count > 1 else { continue }
            for index in 0..<(series.count - 1) {
                let next = series[index + 1].openTimeMillis
                let minute = Self.firstIndex(in: minutes, openingAtOrAfter: next)
                let moment = minute < minutes.count ? minutes[minute].openTimeMillis : next
                moments[moment, default: []].append(ClosedCandle(series[index], interval: interval, spec: spec))
            }
        }
        return moments.keys.sorted().map { moments[$0]! }
    }

    /// The index of the first candle of `series` (sorted by open time) opening at or after `millis`.
    private static func firstIndex(in series: [CandleView], openingAtOrAfter millis: Int64) -> Int {
        var low = 0
        var high = series.count
        while low < high {
            let middle = (low + high) / 2
            if series[middle].openTimeMillis < millis { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension ClosedCandle {
    /// A market-data candle's close and volume as decimal numbers (read exactly from the fixed-point
    /// values: units of 10⁻⁸ divided once, so `50000.25` is the nearest `Double`, as when parsed).
    init(_ candle: CandleView, interval: CandleInterval, spec: MarketSpec) {
        self.init(
            interval: interval, closeUnits: Int128(candle.close.ticks) * Int128(spec.tickSize.units),
            volumeUnits: Int128(candle.volume.lots) * Int128(spec.lotSize.units))
    }
}
