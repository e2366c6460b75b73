/// Where a ``FeedRunner`` reads reference market data from.
public enum FeedConfiguration: Sendable, Hashable {
    /// Binance's public market streams. `url` is the raw-stream endpoint (``binanceURL`` by default); `symbol` is a
    /// Binance symbol like `"btcusdt"` (any case); `streams` are stream names like `["trade", "bookTicker"]`.
    ///
    /// One stream connects to `<url>/<symbol>@<stream>`; several connect to the combined endpoint
    /// `<url without /ws>/stream?streams=<symbol>@<a>/<symbol>@<b>`, whose messages are wrapped in
    /// `{"stream": …, "data": …}`. Both need no subscribe message.
    case binance(url: String = FeedConfiguration.binanceURL, symbol: String, streams: [String])
    /// Coinbase Exchange's WebSocket feed (``coinbaseURL`` by default); `productID` like `"BTC-USD"`; `channels`
    /// like `["matches", "ticker"]`. A subscribe message is sent after every connect.
    case coinbase(url: String = FeedConfiguration.coinbaseURL, productID: String, channels: [String])
    /// A recorded file (`.csv` or `.jsonl`); `speed` 1 = real time, 60 = sixty times faster; `loop` restarts at the
    /// end.
    case replay(path: String, speed: Double, loop: Bool)
    /// The bundled synthetic sample for a demo market (`"BTC-USD"` or `"ETH-USD"`), looped at the given speed.
    case sample(symbol: String, speed: Double)

    /// Binance's raw-stream endpoint.
    public static let binanceURL = "wss://stream.binance.com:9443/ws"
    /// Coinbase Exchange's WebSocket feed.
    public static let coinbaseURL = "wss://ws-feed.exchange.coinbase.com"

    /// A short name for logs and metrics: `binance`, `coinbase`, `replay` or `sample`.
    public var source: String {
        switch self {
        case .binance: "binance"
        case .coinbase: "coinbase"
        case .replay: "replay"
        case .sample: "sample"
        }
    }
}
