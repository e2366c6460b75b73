import Trading

/// Market-data aggregates of one symbol, updated from its trades: recent trades, candles for every
/// interval, and the 24-hour ticker computed from one-minute candles. Deterministic (timestamps come
/// from the journaled commands), so replay rebuilds it exactly.
public struct MarketData: Sendable {
    public static let recentTradeCapacity = 1_000
    public static let candleCapacity = 1_500

    /// Newest last.
    public internal(set) var recentTrades: [PublicTrade] = []
    var candles: [CandleInterval: [CandleView]] = [:]

    public init() {}

    /// Adds `trade` to the recent trades and the candles; returns the candles it closed, by interval.
    ///
    /// A candle closes when the first print (a trade, or a reference tick: `recordPrint`) of a later candle of
    /// its interval arrives (there is no timer): so every close is seen at a print, and all the candles closing
    /// at that print close together (a 5m candle never closes without the 1m candle).
    @discardableResult
    public mutating func record(_ trade: PublicTrade) -> [(interval: CandleInterval, candle: CandleView)] {
        recentTrades.append(trade)
        if recentTrades.count > MarketData.recentTradeCapacity * 2 {
            recentTrades.removeFirst(recentTrades.count - MarketData.recentTradeCapacity)
        }
        return recordPrint(price: trade.price, quantity: trade.quantity, atMillis: trade.timestampMillis)
    }

    /// Adds a price (and the size traded at it, zero for a quote) to the candles of every interval, without
    /// a public trade: how reference ticks from a market-data feed build the candles. Returns the candles it
    /// closed, as `record(_:)` does.
    @discardableResult
    public mutating func recordPrint(price: Price, quantity: Quantity, atMillis millis: Int64)
        -> [(interval: CandleInterval, candle: CandleView)]
    {
        var closed: [(interval: CandleInterval, candle: CandleView)] = []
        for interval in CandleInterval.allCases {
            let open = millis - millis % interval.millis
            var series = candles[interval, default: []]
            if var last = series.last, last.openTimeMillis == open {
                last.high = max(last.high, price)
                last.low = min(last.low, price)
                last.close = price
                last.volume = Quantity(lots: last.volume.lots &+ quantity.lots)
                series[series.count - 1] = last
            } else if series.last.map({ $0.openTimeMillis < open }) ?? true {
                if let last = series.last { closed.append((interval, last)) }
                series.append(
                    CandleView(
                        openTimeMillis: open, open: price, high: price, low: price, close: price, volume: quantity))
                if series.count > MarketData.candleCapacity * 2 {
                    series.removeFirst(series.count - MarketData.candleCapacity)
                }
            }
            candles[interval] = series
        }
        return closed
    }

    /// Newest first.
    public func trades(limit: Int) -> [PublicTrade] { Array(recentTrades.suffix(limit).reversed()) }

    /// Oldest first.
    public func candles(_ interval: CandleInterval, limit: Int) -> [CandleView] {
        Array((candles[interval] ?? []).suffix(limit))
    }

    /// Open, high, low and volume over the 24 hours before `nowMillis`.
    public func stats24h(nowMillis: Int64) -> (open: Price?, high: Price?, low: Price?, volume: Quantity) {
        let since = nowMillis - 86_400_000
        var open: Price?
        var high: Price?
        var low: Price?
        var volume: Int64 = 0
        for candle in candles[.m1] ?? [] where candle.openTimeMillis >= since - 60_000 {
            if open == nil { open = candle.open }
            high = max(high ?? candle.high, candle.high)
            low = min(low ?? candle.low, candle.low)
            volume &+= candle.volume.lots
        }
        return (open, high, low, Quantity(lots: volume))
    }
}
