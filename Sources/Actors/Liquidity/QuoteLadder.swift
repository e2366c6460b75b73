import Trading

/// The quotes of a paper-liquidity provider around a reference price: `levels` bids below and asks above,
/// the first of each at half the spread from the reference and the next ones `stepBps` further each. Bids
/// round down and asks up to the tick, so the quoted spread is never narrower than configured; levels that
/// round onto the same tick are merged (one order each).
public struct QuoteLadder: Sendable, Hashable {
    public struct Quote: Sendable, Hashable {
        public var side: Side
        public var price: Price
        public var quantity: Quantity
    }

    public var quotes: [Quote]

    public init(reference: Price, configuration: LiquidityConfiguration) {
        var quotes: [Quote] = []
        let reference = Int128(reference.ticks)
        for level in 0..<configuration.levels {
            // Offsets in units of 1/20,000 of the reference (half a basis point), so half an odd spread is exact.
            let offset = Int128(configuration.spreadBps) + 2 * Int128(level) * Int128(configuration.stepBps)
            let bid = reference * (20_000 - offset) / 20_000
            let askNumerator = reference * (20_000 + offset)
            let ask = (askNumerator + 19_999) / 20_000
            if bid > 0, quotes.last(where: { $0.side == .buy })?.price.ticks != Int64(bid) {
                quotes.append(Quote(side: .buy, price: Price(ticks: Int64(bid)), quantity: configuration.size))
            }
            if ask <= Int128(MarketSpec.maxTicks), quotes.last(where: { $0.side == .sell })?.price.ticks != Int64(ask) {
                quotes.append(Quote(side: .sell, price: Price(ticks: Int64(ask)), quantity: configuration.size))
            }
        }
        self.quotes = quotes
    }
}
