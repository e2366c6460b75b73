import Logging
import TestSupport
import Testing
import Trading

@testable import Feeds

/// End to end over ws://127.0.0.1 against `WebSocketReplayServer`.
@Suite("WebSocket feeds against a local server", .timeLimit(.minutes(1)))
struct FeedRunnerWebSocketTests {
    static func binanceTrade(_ price: String, time: Int64) -> String {
        #"{"e":"trade","E":\#(time + 1),"s":"BTCUSDT","t":1,"p":"\#(price)","q":"0.25","T":\#(time),"m":true,"M":true}"#
    }

    let fast = Backoff(initial: .milliseconds(10), maximum: .milliseconds(50))

    @Test("Binance, one stream: the raw stream path, bad messages skipped, ticks in order")
    func binanceRaw() async throws {
        let messages = [
            Self.binanceTrade("50000.01", time: 1_000),
            #"{"result":null,"id":1}"#,
            Self.binanceTrade("not a price", time: 1_500),
            "{ not json",
            Self.binanceTrade("50000.02", time: 2_000),
        ]
        try await WebSocketReplayServer.withServer(.init(messages: messages)) { server in
            let configuration = FeedConfiguration.binance(
                url: "ws://127.0.0.1:\(server.port)/ws", symbol: "BTCUSDT", streams: ["trade"])
            let (logger, logs) = RecordingLogHandler.logger()
            let ticks = try await collect(2, from: FeedRunner(configuration: configuration, logger: logger))
            #expect(
                ticks == [
                    ReferenceTick(
                        kind: .trade, priceUnits: units(50_000, 1_000_000), quantityUnits: 25_000_000,
                        timestampMillis: 1_000),
                    ReferenceTick(
                        kind: .trade, priceUnits: units(50_000, 2_000_000), quantityUnits: 25_000_000,
                        timestampMillis: 2_000),
                ])
            #expect(server.requestPaths == ["/ws/btcusdt@trade"])
            #expect(logs.count(of: "skipping a message that does not parse") == 2)
        }
    }

    @Test("Binance, combined streams: wrapped messages in fragments after a ping, which is answered")
    func binanceCombined() async throws {
        let book = #"{"u":400900217,"s":"BTCUSDT","b":"49999.99","B":"1.5","a":"50000.02","A":"2"}"#
        let messages = [
            #"{"stream":"btcusdt@bookTicker","data":\#(book)}"#,
            #"{"stream":"btcusdt@trade","data":\#(Self.binanceTrade("50000.00", time: 7))}"#,
        ]
        let options = WebSocketReplayServer.Options(messages: messages, fragmentSize: 7, pingFirst: true)
        try await WebSocketReplayServer.withServer(options) { server in
            let configuration = FeedConfiguration.binance(
                url: "ws://127.0.0.1:\(server.port)/ws", symbol: "btcusdt", streams: ["trade", "bookTicker"])
            let before = FeedRunner.nowMillis()
            let ticks = try await collect(2, from: FeedRunner(configuration: configuration, logger: silentLogger))
            #expect(ticks.map(\.kind) == [.quote, .trade])
            #expect(ticks.map(\.priceUnits) == [5_000_000_500_000, units(50_000)])
            #expect(ticks[0].timestampMillis >= before && ticks[0].timestampMillis <= FeedRunner.nowMillis())
            #expect(server.requestPaths == ["/stream?streams=btcusdt@trade/btcusdt@bookTicker"])
            #expect(await eventually(within: .seconds(30)) { server.receivedPongs == ["bourse"] })
        }
    }

    @Test("Coinbase: subscribes after connecting, then matches and tickers become ticks")
    func coinbase() async throws {
        let messages = [
            #"{"type":"subscriptions","channels":[{"name":"matches","product_ids":["BTC-USD"]}]}"#,
            #"{"type":"heartbeat","sequence":1,"last_trade_id":1,"product_id":"BTC-USD","time":"2024-01-01T00:00:00Z"}"#,
            #"{"type":"last_match","trade_id":9,"time":"2024-01-01T00:00:00.5Z","size":"0.01","price":"42000.5"}"#,
            #"{"type":"match","trade_id":10,"time":"2024-01-01T00:00:01.000001Z","size":"0.02","price":"42001"}"#,
            #"{"type":"ticker","product_id":"BTC-USD","price":"42001.25","time":"2024-01-01T00:00:01.2Z"}"#,
        ]
        let options = WebSocketReplayServer.Options(messages: messages, waitForClientMessage: true)
        try await WebSocketReplayServer.withServer(options) { server in
            let configuration = FeedConfiguration.coinbase(
                url: "ws://127.0.0.1:\(server.port)", productID: "BTC-USD", channels: ["matches", "ticker"])
            let ticks = try await collect(3, from: FeedRunner(configuration: configuration, logger: silentLogger))
            #expect(
                ticks == [
                    ReferenceTick(
                        kind: .trade, priceUnits: units(42_000, 50_000_000), quantityUnits: 1_000_000,
                        timestampMillis: 1_704_067_200_500),
                    ReferenceTick(
                        kind: .trade, priceUnits: units(42_001), quantityUnits: 2_000_000,
                        timestampMillis: 1_704_067_201_000),
                    ReferenceTick(
                        kind: .quote, priceUnits: units(42_001, 25_000_000), quantityUnits: 0,
                        timestampMillis: 1_704_067_201_200),
                ])
            #expect(
                server.receivedMessages == [
                    #"{"type":"subscribe","product_ids":["BTC-USD"],"channels":["matches","ticker"]}"#
                ])
            #expect(server.requestPaths == ["/"])
        }
    }

    @Test("the runner reconnects when the server hangs up and keeps delivering, in order")
    func reconnects() async throws {
        let messages = (1...6).map { Self.binanceTrade("\(100 + $0)", time: Int64($0)) }
        let options = WebSocketReplayServer.Options(messages: messages, closeAfter: 2, resume: true)
        try await WebSocketReplayServer.withServer(options) { server in
            let configuration = FeedConfiguration.binance(
                url: "ws://127.0.0.1:\(server.port)/ws", symbol: "btcusdt", streams: ["trade"])
            let (logger, logs) = RecordingLogHandler.logger()
            let runner = FeedRunner(configuration: configuration, logger: logger, backoff: fast)
            let ticks = try await collect(6, from: runner)
            #expect(ticks.map(\.priceUnits) == (101...106).map { units(Int64($0)) })
            #expect(server.connectionCount >= 3)
            // Every connection delivered messages, so the backoff started over each time.
            let attempts = logs.metadata(of: "reconnecting to the feed").compactMap { $0["attempt"]?.description }
            #expect(attempts.count >= 2 && attempts.allSatisfy { $0 == "1" })
        }
    }

    @Test("with nothing listening, attempts back off and grow; cancelling ends run() without an error")
    func backsOffAndCancels() async throws {
        // Bind and close a server to find a port that is very likely free.
        let port = try await WebSocketReplayServer.withServer(.init(messages: [])) { $0.port }
        let configuration = FeedConfiguration.coinbase(
            url: "ws://127.0.0.1:\(port)", productID: "BTC-USD", channels: ["ticker"])
        let (logger, logs) = RecordingLogHandler.logger()
        let runner = FeedRunner(
            configuration: configuration, logger: logger,
            backoff: Backoff(
                initial: .milliseconds(5), maximum: .milliseconds(40), jitter: 0))
        let task = Task { try await runner.run { _ in } }
        #expect(await eventually(within: .seconds(30)) { logs.count(of: "reconnecting to the feed") >= 4 })
        task.cancel()
        try await task.value
        let delays = logs.metadata(of: "reconnecting to the feed").prefix(4).compactMap { $0["delay"]?.description }
        #expect(delays == ["0.005 seconds", "0.01 seconds", "0.02 seconds", "0.04 seconds"])
        #expect(logs.count(of: "feed connection failed") >= 4)
    }
}
