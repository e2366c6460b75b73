import Foundation
import Testing

@testable import Node

@Suite("Node configuration")
struct NodeConfigurationTests {
    static let repoFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("cluster.yaml").path

    @Test("defaults: embedded store, 127.0.0.1:8080, demo markets")
    func defaults() throws {
        let config = try NodeConfiguration.resolve(file: nil, flags: .init(), environment: [:])
        #expect(config.databaseURL == nil)
        #expect(config.dataDir == "./bourse-data")
        #expect(config.listen == HostPort(host: "127.0.0.1", port: 8080))
        #expect(config.markets.map(\.symbol).contains("BTC-USD"))
        #expect(config.markets.map(\.symbol).contains("ETH-USD"))
        #expect(config.accountShards == 1024)
    }

    @Test("the committed cluster.yaml parses; flags override it; the environment overrides both")
    func precedence() throws {
        let file = try NodeConfiguration.resolve(file: Self.repoFile, flags: .init(), environment: [:])
        #expect(file.nodeID == "n1")
        #expect(file.seeds.isEmpty, "seeds are read and ignored; the example sets none")
        #expect(file.markets.first?.tickSize.units == 1_000_000)
        let flagged = try NodeConfiguration.resolve(
            file: Self.repoFile, flags: .init(nodeID: "n2", listen: "127.0.0.1:8082"), environment: [:])
        #expect(flagged.nodeID == "n2")
        #expect(flagged.listen.port == 8082)
        let environment = try NodeConfiguration.resolve(
            file: Self.repoFile, flags: .init(nodeID: "n2", listen: "127.0.0.1:8082"),
            environment: [
                "BOURSE_NODE_ID": "n3", "BOURSE_LISTEN": "[::1]:9000", "BOURSE_SEEDS": "a:1, b:2",
                "BOURSE_DATABASE_URL": "postgres://x@h/db", "BOURSE_ADMIN_PASSWORD": "secret-pw",
            ])
        #expect(environment.nodeID == "n3")
        #expect(environment.listen == HostPort(host: "::1", port: 9000))
        #expect(environment.seeds == ["a:1", "b:2"])
        #expect(environment.databaseURL == "postgres://x@h/db")
        #expect(environment.adminPassword == "secret-pw")
    }

    @Test("routing is by shard unless the file or BOURSE_ROUTING says active_standby; anything else is refused")
    func routing() throws {
        #expect(try NodeConfiguration.resolve(file: nil, flags: .init(), environment: [:]).routing == .byShard)
        #expect(
            try NodeConfiguration.resolve(file: Self.repoFile, flags: .init(), environment: [:]).routing == .byShard)
        let standby = try NodeConfiguration.resolve(
            file: Self.repoFile, flags: .init(), environment: ["BOURSE_ROUTING": "active_standby"])
        #expect(standby.routing == .activeStandby)
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(file: nil, flags: .init(), environment: ["BOURSE_ROUTING": "ring"])
        }
    }

    @Test("bad values are clear errors", arguments: ["nohost", "host:99999", ":80", "[::1]"])
    func badAddress(text: String) {
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(file: nil, flags: .init(listen: text), environment: [:])
        }
    }

    @Test("an off-grid market in the file is refused")
    func badMarket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml").path
        try """
        markets:
          - {symbol: X-Y, base: X, quote: Y, tick_size: "0.0001", lot_size: "0.00001", min_quantity: "0.00001", maker_fee_bps: 1, taker_fee_bps: 2}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(file: path, flags: .init(), environment: [:])
        }
    }
}

@Suite("Node configuration: feeds and paper liquidity")
struct MarketDataConfigurationTests {
    static func resolve(_ yaml: String, flags: NodeConfiguration.Flags = .init(), environment: [String: String] = [:])
        throws -> NodeConfiguration
    {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("feeds-\(UUID()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try NodeConfiguration.resolve(file: path, flags: flags, environment: environment)
    }

    @Test("tracing: off by default, node.tracing and its sample ratio, BOURSE_TRACING over the file")
    func tracing() throws {
        #expect(try NodeConfiguration.resolve(file: nil, flags: .init(), environment: [:]).tracing == .off)
        let file = try Self.resolve("node:\n  tracing: log\n  trace_sample_ratio: 0.25\n")
        #expect(file.tracing == .log)
        #expect(file.traceSampleRatio == 0.25)
        let environment = try Self.resolve("node:\n  tracing: log\n", environment: ["BOURSE_TRACING": "off"])
        #expect(environment.tracing == .off)
        #expect(
            try NodeConfiguration.resolve(file: nil, flags: .init(), environment: ["BOURSE_TRACING": "log"]).tracing
                == .log)
        #expect(throws: ConfigurationError.self) { try Self.resolve("node:\n  tracing: otel\n") }
        #expect(throws: ConfigurationError.self) { try Self.resolve("node:\n  trace_sample_ratio: 1.5\n") }
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(file: nil, flags: .init(), environment: ["BOURSE_TRACING": "yes"])
        }
    }

    static let market =
        #"{symbol: BTC-USD, base: BTC, quote: USD, tick_size: "0.01", lot_size: "0.00001", min_quantity: "0.00001", maker_fee_bps: 10, taker_fee_bps: 20"#

    @Test(
        "the demo markets replay the bundled sample with paper liquidity; --no-feeds and BOURSE_FEEDS=off turn it off")
    func demo() throws {
        let config = try NodeConfiguration.resolve(file: nil, flags: .init(), environment: [:])
        #expect(config.marketData.feeds["BTC-USD"] == .sample(symbol: "BTC-USD", speed: 1))
        #expect(config.marketData.feeds["ETH-USD"] == .sample(symbol: "ETH-USD", speed: 1))
        #expect(config.marketData.feeds["SOL-USD"] == nil)
        #expect(config.marketData.liquidity["BTC-USD"] != nil)
        #expect(config.marketData.liquidity["SOL-USD"] == nil)
        let quiet = try NodeConfiguration.resolve(file: nil, flags: .init(noFeeds: true), environment: [:])
        #expect(quiet.marketData.feeds.isEmpty && quiet.marketData.liquidity.isEmpty)
        let off = try NodeConfiguration.resolve(file: nil, flags: .init(), environment: ["BOURSE_FEEDS": "off"])
        #expect(off.marketData.feeds.isEmpty)
    }

    @Test("markets from a file have only the feeds it gives, read per kind")
    func perMarket() throws {
        let config = try Self.resolve(
            """
            markets:
              - \(Self.market), feed: {kind: binance, symbol: BTCUSDT, streams: [trade, bookTicker]}, liquidity: {size: "0.01", spread_bps: 8, levels: 3, step_bps: 4, quote_inventory: "500000"}}
              - {symbol: ETH-USD, base: ETH, quote: USD, tick_size: "0.01", lot_size: "0.0001", min_quantity: "0.0001", maker_fee_bps: 10, taker_fee_bps: 20, feed: {kind: coinbase}}
              - {symbol: SOL-USD, base: SOL, quote: USD, tick_size: "0.001", lot_size: "0.01", min_quantity: "0.01", maker_fee_bps: 10, taker_fee_bps: 20, feed: {kind: replay, path: sol.csv, speed: 60, loop: false}}
              - {symbol: ADA-USD, base: ADA, quote: USD, tick_size: "0.0001", lot_size: "1", min_quantity: "1", maker_fee_bps: 10, taker_fee_bps: 20}
            """)
        #expect(
            config.marketData.feeds["BTC-USD"]
                == .binance(
                    url: "wss://stream.binance.com:9443/ws", symbol: "btcusdt", streams: ["trade", "bookTicker"]))
        #expect(
            config.marketData.feeds["ETH-USD"]
                == .coinbase(url: "wss://ws-feed.exchange.coinbase.com", productID: "ETH-USD", channels: ["matches"]))
        #expect(config.marketData.feeds["SOL-USD"] == .replay(path: "sol.csv", speed: 60, loop: false))
        #expect(config.marketData.feeds["ADA-USD"] == nil)
        let liquidity = try #require(config.marketData.liquidity["BTC-USD"])
        #expect(liquidity.size.lots == 1_000)
        #expect(liquidity.spreadBps == 8 && liquidity.levels == 3 && liquidity.stepBps == 4)
        #expect(liquidity.quoteInventory.units == 500_000 * 100_000_000)
        #expect(liquidity.baseInventory.units == 1_000 * 1_000_000)
        #expect(config.marketData.liquidity.count == 1)
    }

    @Test(
        "bad feed or liquidity settings are clear errors",
        arguments: [
            "feed: {kind: ftp}", "feed: {kind: replay}", "feed: {kind: binance}",
            "feed: {kind: sample, symbol: DOGE-USD}",
            "feed: {kind: sample, speed: 0}", #"liquidity: {size: "0.01"}"#,
            #"feed: {kind: sample}, liquidity: {size: "0.000001"}"#, #"feed: {kind: sample}, liquidity: {size: "0"}"#,
            #"feed: {kind: sample}, liquidity: {size: "0.01", levels: 0}"#,
            #"feed: {kind: sample}, liquidity: {size: "0.01", spread_bps: 0}"#,
        ])
    func badSettings(entry: String) {
        #expect(throws: ConfigurationError.self) {
            try Self.resolve("markets:\n  - \(Self.market), \(entry)}")
        }
    }
}

extension MarketDataConfigurationTests {
    @Test("the committed cluster.yaml replays the sample with paper liquidity on BTC-USD and ETH-USD")
    func committedFile() throws {
        let config = try NodeConfiguration.resolve(
            file: NodeConfigurationTests.repoFile, flags: .init(), environment: [:])
        #expect(config.marketData.feeds["BTC-USD"] == .sample(symbol: "BTC-USD", speed: 1))
        #expect(config.marketData.liquidity["BTC-USD"]?.size.lots == 5_000)
        #expect(config.marketData.liquidity["ETH-USD"]?.size.lots == 5_000)
    }
}

extension MarketDataConfigurationTests {
    @Test("liquidity.requote_bps is read and checked")
    func requoteBps() throws {
        let config = try Self.resolve(
            "markets:\n  - \(Self.market), feed: {kind: sample}, liquidity: {size: \"0.01\", requote_bps: 0}}")
        #expect(config.marketData.liquidity["BTC-USD"]?.requoteBps == 0)
        #expect(throws: ConfigurationError.self) {
            try Self.resolve(
                "markets:\n  - \(Self.market), feed: {kind: sample}, liquidity: {size: \"0.01\", requote_bps: -1}}")
        }
    }
}
