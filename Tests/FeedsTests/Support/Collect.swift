import Feeds
import Foundation
import Logging
import Synchronization

struct TimedOut: Error {}

/// Runs `runner` until it has delivered `count` ticks (then cancels it) or `timeout` passes (then throws). The
/// timeout only guards against a hang: the full suite on two cores can starve a test for tens of seconds.
func collect(_ count: Int, from runner: FeedRunner, timeout: Duration = .seconds(45)) async throws -> [ReferenceTick] {
    let (stream, continuation) = AsyncStream.makeStream(
        of: ReferenceTick.self, bufferingPolicy: .bufferingOldest(count))
    return try await withThrowingTaskGroup(of: [ReferenceTick]?.self) { group in
        group.addTask {
            try await runner.run { continuation.yield($0) }
            continuation.finish()
            return nil
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimedOut()
        }
        group.addTask {
            var ticks: [ReferenceTick] = []
            for await tick in stream {
                ticks.append(tick)
                if ticks.count == count { break }
            }
            return ticks
        }
        defer { group.cancelAll() }
        while let result = try await group.next() {
            if let ticks = result { return ticks }
        }
        return []
    }
}

/// Runs `runner` to its end and returns every tick.
func collectAll(from runner: FeedRunner) async throws -> [ReferenceTick] {
    let ticks = Mutex<[ReferenceTick]>([])
    try await runner.run { tick in ticks.withLock { $0.append(tick) } }
    return ticks.withLock { $0 }
}

/// A fresh directory under the system's temporary directory, removed after `body`.
func withTemporaryDirectory<Result>(_ body: (URL) async throws -> Result) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("feeds-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Writes `text` to `name` in `directory` and returns the path.
func write(_ text: String, to name: String, in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
}

/// A logger that drops everything.
let silentLogger = Logger(label: "feeds-test") { _ in SwiftLogNoOpLogHandler() }

/// 10⁻⁸ units of a decimal written as whole units and hundred-millionths.
func units(_ whole: Int64, _ fraction: Int64 = 0) -> Int64 { whole * 100_000_000 + fraction }
