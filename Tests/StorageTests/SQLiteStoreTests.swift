import Foundation
import SQLiteNIO
import Testing

@testable import Storage

/// What only the embedded store has: a file that outlives the process.
@Suite struct SQLiteStoreTests {
    @Test func committedDataSurvivesReopening() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bourse-sqlite-reopen-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let first = try await SQLiteStore(directory: directory, logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await first.run() }
            try await first.migrate()
            let epoch = try await lease(first, "symbol/BTC-USD")
            try await first.append([
                record("symbol/BTC-USD", 1, epoch: epoch), record("symbol/BTC-USD", 2, epoch: epoch),
            ])
            _ = try await first.createUser(username: "erin", passwordHash: "h", role: "admin", nowMillis: 7)
            #expect(FileManager.default.fileExists(atPath: first.path + "-wal"), "the database is in WAL mode")
            await first.shutdown()
            try await group.waitForAll()
        }
        #expect(FileManager.default.fileExists(atPath: first.path))

        let second = try await SQLiteStore(directory: directory, logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await second.run() }
            try await second.migrate()
            #expect(try await second.lastSequence(shard: "symbol/BTC-USD") == 2)
            #expect(try await second.user(named: "erin")?.createdAtMillis == 7)
            #expect(try await second.leases().map(\.epoch) == [1])
            await second.shutdown()
            try await group.waitForAll()
        }
    }

    /// A caller cancelled in the middle of its write transaction (a request whose client went away, a runner
    /// stopped) must not leave the transaction open on the shared connection: every later write would fail with
    /// "cannot start a transaction within a transaction" (seen in CI when a node's ownership runner was stopped).
    @Test func aWriteWhoseCallerIsCancelledStillEndsItsTransaction() async throws {
        try await withStore(.sqlite) { opened in
            let store = try #require(opened as? SQLiteStore)
            let (begun, begin) = AsyncStream<Void>.makeStream()
            let (resumed, resume) = AsyncStream<Void>.makeStream()
            let caller = Task {
                try await store.write("test write") { db in
                    _ = try await db.query("INSERT INTO kv (key, value) VALUES ('first', X'01')")
                    begin.yield()
                    for await _ in resumed { break }
                    _ = try await db.query("INSERT INTO kv (key, value) VALUES ('second', X'02')")
                }
            }
            for await _ in begun { break }
            caller.cancel()
            resume.yield()
            let outcome = await caller.result
            // The transaction ran to its end: both rows or neither, never a transaction left open.
            let first = try await store.value(forKey: "first")
            let second = try await store.value(forKey: "second")
            #expect(
                (first == nil) == (second == nil),
                "first \(String(describing: first)), second \(String(describing: second))")
            if case .success = outcome { #expect(first == [1] && second == [2]) }
            // The connection takes the next transaction.
            #expect(try await store.putIfAbsent(key: "after", value: [3]) == [3])
            #expect(try await store.value(forKey: "after") == [3])
        }
    }
}
