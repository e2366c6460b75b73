import Actors
import Feeds
import Trading

/// Per market, where its reference prices come from and whether a paper-liquidity provider quotes around them
/// (cluster.yaml `markets[].feed` and `markets[].liquidity`).
struct MarketDataSettings: Sendable {
    var feeds: [String: FeedConfiguration] = [:]
    var liquidity: [String: LiquidityConfiguration] = [:]

    /// A node started without markets of its own: BTC-USD and ETH-USD replay the bundled sample in real time
    /// and have paper liquidity, so the demo markets move; SOL-USD has neither.
    static let demo = MarketDataSettings(
        feeds: [
            "BTC-USD": .sample(symbol: "BTC-USD", speed: 1), "ETH-USD": .sample(symbol: "ETH-USD", speed: 1),
        ],
        liquidity: [
            "BTC-USD": LiquidityConfiguration(
                size: Quantity(lots: 5_000), baseInventory: Amount(units: 100 * Amount.unitsPerCoin),
                quoteInventory: Amount(units: 10_000_000 * Amount.unitsPerCoin)),
            "ETH-USD": LiquidityConfiguration(
                size: Quantity(lots: 5_000), baseInventory: Amount(units: 1_000 * Amount.unitsPerCoin),
                quoteInventory: Amount(units: 10_000_000 * Amount.unitsPerCoin)),
        ])

    /// Reads one market's `feed` and `liquidity` entries.
    mutating func apply(_ market: ClusterFile.Market, spec: MarketSpec) throws {
        let symbol = spec.symbol
        if let feed = market.feed { feeds[symbol] = try Self.feed(feed, symbol: symbol) }
        guard let liquidity = market.liquidity else { return }
        guard feeds[symbol] != nil else {
            throw ConfigurationError("market \(symbol): liquidity needs a feed (it quotes around the feed's price)")
        }
        do {
            let size = try Amount(parsing: liquidity.size, field: "liquidity.size")
            guard size.units > 0, size.units % spec.lotSize.units == 0 else {
                throw BourseError.validation("liquidity.size must be a positive multiple of the lot size")
            }
            var configuration = LiquidityConfiguration(
                spreadBps: liquidity.spread_bps ?? 10, levels: liquidity.levels ?? 5, stepBps: liquidity.step_bps ?? 5,
                size: Quantity(lots: size.units / spec.lotSize.units),
                baseInventory: try liquidity.base_inventory.map { try Amount(parsing: $0, field: "base_inventory") }
                    ?? Amount(units: size.units.multipliedReportingOverflow(by: 1_000).partialValue),
                quoteInventory: try liquidity.quote_inventory.map { try Amount(parsing: $0, field: "quote_inventory") }
                    ?? Amount(units: 10_000_000 * Amount.unitsPerCoin))
            if let requote = liquidity.requote_bps { configuration.requoteBps = requote }
            try configuration.validate(symbol: symbol)
            self.liquidity[symbol] = configuration
        } catch let error as BourseError {
            throw ConfigurationError("market \(symbol): \(error.message)")
        }
    }

    private static func feed(_ feed: ClusterFile.Feed, symbol: String) throws -> FeedConfiguration {
        let speed = feed.speed ?? 1
        guard speed.isFinite, speed > 0 else { throw ConfigurationError("market \(symbol): feed.speed must be > 0") }
        switch feed.kind {
        case "binance":
            guard let stream = feed.symbol, !stream.isEmpty else {
                throw ConfigurationError("market \(symbol): a binance feed needs `symbol` (e.g. btcusdt)")
            }
            return .binance(
                url: feed.url ?? "wss://stream.binance.com:9443/ws", symbol: stream.lowercased(),
                streams: feed.streams ?? ["trade"])
        case "coinbase":
            return .coinbase(
                url: feed.url ?? "wss://ws-feed.exchange.coinbase.com", productID: feed.product_id ?? symbol,
                channels: feed.channels ?? ["matches"])
        case "replay":
            guard let path = feed.path, !path.isEmpty else {
                throw ConfigurationError("market \(symbol): a replay feed needs `path` (a .csv or .jsonl file)")
            }
            return .replay(path: path, speed: speed, loop: feed.loop ?? true)
        case "sample":
            let sample = feed.symbol ?? symbol
            guard ["BTC-USD", "ETH-USD"].contains(sample) else {
                throw ConfigurationError("market \(symbol): the bundled samples are BTC-USD and ETH-USD")
            }
            return .sample(symbol: sample, speed: speed)
        default:
            throw ConfigurationError(
                "market \(symbol): feed.kind must be binance, coinbase, replay or sample, not \(feed.kind)")
        }
    }
}
