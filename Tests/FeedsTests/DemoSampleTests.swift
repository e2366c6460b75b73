import Testing
import Trading

@testable import Feeds

@Suite("Bundled demo sample")
struct DemoSampleTests {
    @Test(
        "each sample is a lap of ticks on the price and size grids, about 1 s apart, that loops seamlessly",
        arguments: [("BTC-USD", units(40_000)...units(60_000)), ("ETH-USD", units(2_400)...units(3_600))])
    func sample(symbol: String, range: ClosedRange<Int64>) async throws {
        let lines = try #require(DemoSample.jsonl(for: symbol)).split(separator: "\n")
        #expect(lines.count == 1_500)
        let clock = RecordingClock()
        let runner = FeedRunner(configuration: .sample(symbol: symbol, speed: 10), logger: silentLogger, clock: clock)
        let ticks = try await collect(lines.count + 2, from: runner)
        let lap = ticks.prefix(lines.count)
        #expect(lap.allSatisfy { range.contains($0.priceUnits) && $0.priceUnits % 1_000_000 == 0 })
        #expect(lap.allSatisfy { $0.quantityUnits % 10_000 == 0 })
        #expect(lap.allSatisfy { ($0.kind == .trade) == ($0.quantityUnits > 0) })
        let trades = lap.filter { $0.kind == .trade }.count
        #expect(trades > 200 && trades < 600)
        let gaps = zip(lap, lap.dropFirst()).map { $1.timestampMillis - $0.timestampMillis }
        #expect(gaps.allSatisfy { (750...1_250).contains($0) })
        #expect(lap.first?.priceUnits == lap.last?.priceUnits)
        #expect(Array(ticks.suffix(2)) == Array(ticks.prefix(2)))
        // Paced at ten times real speed: about 0.1 s between ticks.
        #expect(clock.sleeps.prefix(1_499).allSatisfy { $0 >= .milliseconds(75) && $0 <= .milliseconds(125) })
    }

    @Test("symbols are matched in any case; an unknown one is a configuration error")
    func lookup() async throws {
        #expect(DemoSample.jsonl(for: "btc-usd") == DemoSample.jsonl(for: "BTC-USD"))
        #expect(DemoSample.symbols == ["BTC-USD", "ETH-USD"])
        let runner = FeedRunner(configuration: .sample(symbol: "DOGE-USD", speed: 1), logger: silentLogger)
        await #expect(throws: BourseError.self) { try await runner.run { _ in } }
    }
}
