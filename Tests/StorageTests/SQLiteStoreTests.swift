import Foundation
import Storage
import Testing

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
}
