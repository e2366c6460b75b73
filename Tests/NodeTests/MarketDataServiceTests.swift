import Actors
import Foundation
import Logging
import Storage
import TestSupport
import Testing
import Trading

@testable import Node

/// `MarketDataService` runs each market's feed while this node serves the market's book: routing by shard, a
/// node runs its share and follows the books as they come and go.
@Suite(.timeLimit(.minutes(2)))
struct MarketDataServiceTests {
    static let eth = try! MarketSpec(
        symbol: "ETH-USD", base: "ETH", quote: "USD", tickSize: "0.01", lotSize: "0.0001", minQuantity: "0.0001",
        makerFeeBps: 10, takerFeeBps: 20)

    /// The symbols whose feed has started and not stopped since, as the service logged them.
    static func running(_ captured: LogTracerTests.Captured) -> Set<String> {
        var running: Set<String> = []
        for event in captured.events.withLock({ $0 }) {
            guard let symbol = event.metadata["symbol"].map({ "\($0)" }) else { continue }
            if event.message == "market data feed starting" { running.insert(symbol) }
            if event.message == "market data feed stopped" { running.remove(symbol) }
        }
        return running
    }

    @Test("a node runs the feeds of the books it serves, and follows them as they move")
    func feedsFollowServedBooks() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-feeds-\(UUID())").path
        let store = try await SQLiteStore(directory: directory, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            // Closed on every path: a store released unclosed traps in SQLiteNIO and ends the whole test run.
            do {
                try await store.migrate()
                var configuration = Exchange.Configuration(
                    markets: [ShardCallTransportTests.btc, Self.eth], accountShards: 2, nodeID: "a")
                configuration.servedShards = ["symbol/BTC-USD", "accounts/0000", "accounts/0001"]
                let exchange = Exchange(configuration: configuration, store: store, logger: Logger(label: "test"))
                try await exchange.start()
                let captured = LogTracerTests.Captured()
                let service = MarketDataService(
                    exchange: exchange,
                    settings: MarketDataSettings(
                        feeds: [
                            "BTC-USD": .sample(symbol: "BTC-USD", speed: 60),
                            "ETH-USD": .sample(symbol: "ETH-USD", speed: 60),
                        ]), users: store, logger: captured.logger)
                let running = Task { try await service.run() }
                defer { running.cancel() }

                // The served book's feed runs and journals its ticks; the other market's does not run at all.
                #expect(
                    await eventually(within: .seconds(30), every: .milliseconds(50)) {
                        Self.running(captured) == ["BTC-USD"]
                    })
                #expect(
                    try await eventually(within: .seconds(30), every: .milliseconds(50)) {
                        try await !exchange.candles(symbol: "BTC-USD", interval: .m1, limit: 5).isEmpty
                    })
                #expect(Self.running(captured) == ["BTC-USD"])

                // The books move: ETH-USD comes here, BTC-USD goes.
                try await exchange.takeShard("symbol/ETH-USD", epoch: 2)
                await exchange.handOffShard("symbol/BTC-USD")
                #expect(
                    await eventually(within: .seconds(30), every: .milliseconds(50)) {
                        Self.running(captured) == ["ETH-USD"]
                    }, "\(Self.running(captured))")
                #expect(
                    try await eventually(within: .seconds(30), every: .milliseconds(50)) {
                        try await !exchange.candles(symbol: "ETH-USD", interval: .m1, limit: 5).isEmpty
                    })
                running.cancel()
                _ = await running.result
                await exchange.stop()
            } catch {
                await store.shutdown()
                throw error
            }
            await store.shutdown()
        }
    }
}
