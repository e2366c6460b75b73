import Testing
import Trading

@testable import Feeds

@Suite("WebSocket URLs and feed endpoints")
struct WebSocketFeedTests {
    @Test("ws and wss URLs are split into host, port and path")
    func urls() throws {
        let binance = try WebSocketURL(parsing: "wss://stream.binance.com:9443/ws/btcusdt@trade")
        #expect(binance.isSecure && binance.host == "stream.binance.com" && binance.port == 9443)
        #expect(binance.path == "/ws/btcusdt@trade" && binance.hostHeader == "stream.binance.com:9443")
        #expect(!binance.hostIsIPAddress)
        let coinbase = try WebSocketURL(parsing: FeedConfiguration.coinbaseURL)
        #expect(coinbase.port == 443 && coinbase.path == "/" && coinbase.hostHeader == "ws-feed.exchange.coinbase.com")
        let local = try WebSocketURL(parsing: "ws://127.0.0.1:8080?x=1#top")
        #expect(!local.isSecure && local.port == 8080 && local.path == "/?x=1" && local.hostIsIPAddress)
        let ipv6 = try WebSocketURL(parsing: "WS://[::1]/feed")
        #expect(ipv6.host == "::1" && ipv6.port == 80 && ipv6.hostHeader == "[::1]" && ipv6.hostIsIPAddress)
    }

    @Test(
        "other schemes, credentials and bad ports are refused",
        arguments: [
            "http://example.com", "example.com", "ws://", "ws://user:secret@example.com/", "ws://example.com:0",
            "ws://example.com:70000", "ws://example.com:port", "ws://[::1/x",
        ])
    func badURLs(text: String) {
        #expect(throws: BourseError.self) { try WebSocketURL(parsing: text) }
    }

    @Test("Binance: one stream is a raw stream path, several use the combined endpoint")
    func binanceEndpoints() throws {
        let one = try WebSocketFeed.binance(url: FeedConfiguration.binanceURL, symbol: "BTCUSDT", streams: ["trade"])
        #expect(one.url.description == "wss://stream.binance.com:9443/ws/btcusdt@trade")
        #expect(one.subscribeMessages.isEmpty)
        let two = try WebSocketFeed.binance(
            url: "wss://stream.binance.com:9443/ws/", symbol: "ethusdt", streams: ["trade", "bookTicker"])
        #expect(two.url.path == "/stream?streams=ethusdt@trade/ethusdt@bookTicker")
        #expect(throws: BourseError.self) {
            try WebSocketFeed.binance(url: FeedConfiguration.binanceURL, symbol: "btc/usdt", streams: ["trade"])
        }
        #expect(throws: BourseError.self) {
            try WebSocketFeed.binance(url: FeedConfiguration.binanceURL, symbol: "btcusdt", streams: [])
        }
    }

    @Test("Coinbase: the feed URL and one subscribe message")
    func coinbaseEndpoint() throws {
        let feed = try WebSocketFeed.coinbase(
            url: FeedConfiguration.coinbaseURL, productID: "ETH-USD", channels: ["matches"])
        #expect(feed.url.isSecure && feed.url.path == "/")
        #expect(feed.subscribeMessages == [#"{"type":"subscribe","product_ids":["ETH-USD"],"channels":["matches"]}"#])
        #expect(throws: BourseError.self) {
            try WebSocketFeed.coinbase(url: FeedConfiguration.coinbaseURL, productID: "", channels: ["ticker"])
        }
    }

    @Test("configuration defaults are the public endpoints")
    func defaults() {
        #expect(
            FeedConfiguration.binance(symbol: "btcusdt", streams: ["trade"])
                == .binance(url: "wss://stream.binance.com:9443/ws", symbol: "btcusdt", streams: ["trade"]))
        #expect(FeedConfiguration.coinbase(productID: "BTC-USD", channels: ["ticker"]).source == "coinbase")
    }
}
