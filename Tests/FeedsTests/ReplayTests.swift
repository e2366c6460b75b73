import Foundation
import Synchronization
import Testing
import Trading

@testable import Feeds

@Suite("Replay of recorded files")
struct ReplayTests {
    func runner(_ path: String, speed: Double = 1, loop: Bool = false, clock: RecordingClock = RecordingClock())
        -> FeedRunner
    {
        FeedRunner(configuration: .replay(path: path, speed: speed, loop: loop), logger: silentLogger, clock: clock)
    }

    @Test("CSV: rows with a quantity are trades, without one quotes; ms and RFC 3339 times")
    func csv() async throws {
        let text = """
            Time, Price ,quantity
            1700000000000,50000.01,0.5
            2023-11-14T22:13:21.5Z,50000.02,
            1700000002000,"50000.03",0.0001\r
            """
        try await withTemporaryDirectory { directory in
            let ticks = try await collectAll(from: runner(try write(text, to: "ticks.csv", in: directory)))
            #expect(
                ticks == [
                    ReferenceTick(
                        kind: .trade, priceUnits: units(50_000, 1_000_000), quantityUnits: 50_000_000,
                        timestampMillis: 1_700_000_000_000),
                    ReferenceTick(
                        kind: .quote, priceUnits: units(50_000, 2_000_000), quantityUnits: 0,
                        timestampMillis: 1_700_000_001_500),
                    ReferenceTick(
                        kind: .trade, priceUnits: units(50_000, 3_000_000), quantityUnits: 10_000,
                        timestampMillis: 1_700_000_002_000),
                ])
        }
    }

    @Test("a CSV without a quantity column gives quotes; columns may come in any order")
    func csvQuotes() async throws {
        let text = "price,source,timestamp\n3000.5,x,1000\n3000.25,y,2000\n"
        try await withTemporaryDirectory { directory in
            let ticks = try await collectAll(from: runner(try write(text, to: "q.csv", in: directory)))
            #expect(ticks.map(\.kind) == [.quote, .quote])
            #expect(ticks.map(\.priceUnits) == [units(3_000, 50_000_000), units(3_000, 25_000_000)])
            #expect(ticks.map(\.timestampMillis) == [1_000, 2_000])
        }
    }

    @Test("JSONL: plain records and raw Binance and Coinbase messages, in file order")
    func jsonl() async throws {
        let lines = [
            #"{"time":1000,"price":"100.5","quantity":"2"}"#,
            #"{"time":"1970-01-01T00:00:02Z","price":"101"}"#,
            #"{"e":"trade","E":3001,"s":"BTCUSDT","t":1,"p":"102","q":"0.1","T":3000,"m":true,"M":true}"#,
            #"{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"102","B":"1","a":"103","A":"1"}}"#,
            #"{"type":"match","trade_id":1,"time":"1970-01-01T00:00:04.000001Z","size":"1.5","price":"104"}"#,
            #"{"type":"subscriptions","channels":[]}"#,
            #"{"type":"ticker","price":"105","time":"1970-01-01T00:00:05Z"}"#,
        ]
        try await withTemporaryDirectory { directory in
            let path = try write(lines.joined(separator: "\n"), to: "mixed.jsonl", in: directory)
            let ticks = try await collectAll(from: runner(path))
            #expect(ticks.map(\.timestampMillis) == [1_000, 2_000, 3_000, 3_000, 4_000, 5_000])
            #expect(ticks.map(\.kind) == [.trade, .quote, .trade, .quote, .trade, .quote])
            #expect(
                ticks.map(\.priceUnits) == [
                    10_050_000_000, units(101), units(102), 10_250_000_000, units(104),
                    units(105),
                ])
            #expect(ticks.map(\.quantityUnits) == [units(2), 0, 10_000_000, 0, 150_000_000, 0])
        }
    }

    @Test("pacing: each gap divided by the speed, on the injected clock; equal or earlier times do not wait")
    func pacing() async throws {
        let text = "time,price\n1000,1\n1500,2\n3500,3\n3500,4\n3000,5\n4000,6\n"
        try await withTemporaryDirectory { directory in
            let clock = RecordingClock()
            let path = try write(text, to: "paced.csv", in: directory)
            let ticks = try await collectAll(from: runner(path, speed: 2, clock: clock))
            #expect(ticks.map(\.priceUnits) == (1...6).map { units($0) })
            #expect(clock.sleeps == [.milliseconds(250), .milliseconds(1_000), .milliseconds(250)])
            let fast = RecordingClock()
            _ = try await collectAll(from: runner(path, speed: 1_000, clock: fast))
            #expect(fast.sleeps == [.microseconds(500), .milliseconds(2), .microseconds(500)])
        }
    }

    @Test("loop: the file restarts from its first line after one average gap")
    func loop() async throws {
        let text = "time,price,quantity\n0,1,1\n1000,2,1\n4000,3,1\n"
        try await withTemporaryDirectory { directory in
            let clock = RecordingClock()
            let path = try write(text, to: "loop.csv", in: directory)
            let ticks = try await collect(7, from: runner(path, speed: 1, loop: true, clock: clock))
            #expect(ticks.map(\.priceUnits) == [1, 2, 3, 1, 2, 3, 1].map { units($0) })
            #expect(ticks.map(\.timestampMillis) == [0, 1_000, 4_000, 0, 1_000, 4_000, 0])
            let sleeps = clock.sleeps
            #expect(
                sleeps.starts(with: [.seconds(1), .seconds(3), .seconds(2), .seconds(1), .seconds(3), .seconds(2)]))
        }
    }

    @Test("a looped file whose ticks share one time waits 1 s (at its speed) between laps instead of spinning")
    func loopWithoutGaps() async throws {
        try await withTemporaryDirectory { directory in
            let clock = RecordingClock()
            let path = try write("time,price\n5,1\n5,2\n", to: "flat.csv", in: directory)
            let ticks = try await collect(6, from: runner(path, speed: 2, loop: true, clock: clock))
            #expect(ticks.map(\.priceUnits) == [1, 2, 1, 2, 1, 2].map { units($0) })
            #expect(clock.sleeps.prefix(2) == [.milliseconds(500), .milliseconds(500)])
        }
    }

    @Test("bad lines are skipped with a log; blank and comment lines are ignored")
    func badLines() async throws {
        let text = """
            time,price,quantity
            # a comment
            1000,1.5,1
            2000,abc,1
            3000,1.000000001,1

            4000,2,-1
            5000
            not a time,3,1
            6000,2.5,0.25
            """
        try await withTemporaryDirectory { directory in
            let (logger, logs) = RecordingLogHandler.logger()
            let path = try write(text, to: "bad.csv", in: directory)
            let runner = FeedRunner(
                configuration: .replay(path: path, speed: 1, loop: false), logger: logger,
                clock: RecordingClock())
            let ticks = try await collectAll(from: runner)
            #expect(ticks.map(\.timestampMillis) == [1_000, 6_000])
            let skipped = logs.metadata(of: "skipping a bad line of the recording")
            #expect(skipped.map { $0["line"]?.description } == ["4", "5", "7", "8", "9"])
            #expect(skipped[1]["error"]?.description == "price has more than 8 decimal places")
            #expect(logs.metadata(of: "skipped bad lines of the recording").first?["count"]?.description == "5")
        }
    }

    @Test(
        "a recording without any valid line, a bad header or a missing file is an error",
        arguments: [
            ("empty.csv", "", "the recording has no valid line"),
            ("blank.jsonl", "\n\n  \n", "the recording has no valid line"),
            ("header.csv", "time,price,quantity\n", "the recording has no valid line"),
            ("bad.jsonl", "{\"time\":1}\n{\"price\":\"1\"}\nnot json\n", "the recording has no valid line"),
            ("noprice.csv", "time,quantity\n1,1\n", "the CSV header must name a time and a price column"),
        ])
    func unusable(name: String, text: String, message: String) async throws {
        try await withTemporaryDirectory { directory in
            let path = try write(text, to: name, in: directory)
            await #expect(throws: BourseError.validation(message)) { try await runner(path).run { _ in } }
        }
        await #expect(throws: BourseError.self) { try await runner("/nonexistent/ticks.csv").run { _ in } }
    }

    @Test("speed must be a positive number", arguments: [0, -1, Double.nan, Double.infinity])
    func badSpeed(speed: Double) async throws {
        try await withTemporaryDirectory { directory in
            let path = try write("time,price\n1,1\n", to: "one.csv", in: directory)
            await #expect(throws: BourseError.validation("replay speed must be a positive number")) {
                try await runner(path, speed: speed).run { _ in }
            }
        }
    }

    @Test("a raw message without a time takes the previous tick's; before any it is skipped")
    func untimedMessages() throws {
        var parser = ReplayLineParser()
        let book = #"{"u":1,"s":"X","b":"1","B":"1","a":"3","A":"1"}"#
        #expect(throws: BourseError.self) { try parser.ticks(in: book) }
        _ = try parser.ticks(in: #"{"time":42,"price":"1"}"#)
        #expect(try parser.ticks(in: book).map(\.timestampMillis) == [42])
        #expect(throws: BourseError.validation("line is too long")) { try parser.ticks(in: nil) }
    }

    @Test("lines split on LF and CRLF, keep a last line without newline, and cap their length")
    func lineSplitting() {
        var splitter = LineSplitter(maxLineBytes: 5)
        var lines = splitter.append(Array("ab\r\ncd".utf8))
        lines += splitter.append(Array("e\n123456789\nxy".utf8))
        lines += splitter.finish()
        #expect(lines == ["ab", "cde", nil, "xy"])
        var empty = LineSplitter(maxLineBytes: 5)
        #expect(empty.finish().isEmpty)
    }

    @Test("large files are read in chunks")
    func chunks() async throws {
        try await withTemporaryDirectory { directory in
            let rows = (0..<5_000).map { "\($0),\(1 + $0 % 7).25" }
            let path = try write("time,price\n" + rows.joined(separator: "\n"), to: "big.csv", in: directory)
            let source = FileReplaySource(path: path, chunkBytes: 1_000)
            let player = ReplayPlayer(
                source: source, speed: 1_000, loop: false, clock: RecordingClock(),
                logger: silentLogger)
            let count = Counter()
            try await player.run { tick in count.add(tick.timestampMillis) }
            #expect(count.values == Array(0..<5_000))
        }
    }
}

/// Collects tick times from a `@Sendable` callback.
final class Counter: Sendable {
    private let store = Mutex<[Int64]>([])
    var values: [Int64] { store.withLock { $0 } }
    func add(_ value: Int64) { store.withLock { $0.append(value) } }
}
