import PostgresNIO
import Testing

@testable import Storage

/// A journal batch whose statement never answered held its shards' appends for good: its node kept renewing its
/// leases on another pool, so nothing ever moved the shards (chaos `dbstop`, seed 2, after the server was killed
/// under it). A leased connection's statements are now bounded (`PostgresStore.statementWait`): past it the call
/// fails as unavailable, its outcome unknown, and the lease row's lock fences whatever the statement still does.
///
/// A statement waiting on a lock stands in for one that never answers: a takeover of the shard's lease holds the
/// lease row, which every append locks `FOR SHARE`.
@Suite struct StatementBoundTests {
    static let shard = "test/held"

    @Test func anAppendThatDoesNotAnswerFailsAndALeaseTakenMeanwhileFencesIt() async throws {
        try await withStore(.postgres, statementWait: .seconds(1)) { store in
            let postgres = try #require(store as? PostgresStore)
            let lease = try await store.acquireLease(
                shard: Self.shard, owner: "node-a", ttlMillis: 60_000, nowMillis: 0)
            let takeover = AsyncStream.makeStream(of: Void.self)
            let appended = AsyncStream.makeStream(of: Void.self)
            // node-b takes the lease over in a transaction it keeps open until node-a's append has returned (or
            // 30 s: an unbounded append returns only then, refused as stale).
            let holder = Task {
                try await postgres.client.withConnection { connection in
                    try await connection.query("BEGIN", logger: PostgresStore.quiet).drain()
                    try await connection.query(
                        """
                        UPDATE shard_leases SET owner = 'node-b', epoch = epoch + 1 WHERE shard = \(Self.shard)
                        """, logger: PostgresStore.quiet
                    ).drain()
                    takeover.continuation.yield()
                    _ = await withTaskGroup(of: Void.self) { group in
                        group.addTask { for await _ in appended.stream { return } }
                        group.addTask { try? await Task.sleep(for: .seconds(30)) }
                        await group.next()
                        group.cancelAll()
                    }
                    try await connection.query("COMMIT", logger: PostgresStore.quiet).drain()
                }
            }
            for await _ in takeover.stream { break }

            let started = ContinuousClock.now
            let record = JournalRecord(shard: Self.shard, epoch: lease.epoch, sequence: 1, payload: [1])
            do {
                try await store.append([record])
                Issue.record("the append at the superseded epoch was taken")
            } catch let error as StorageError {
                #expect(error.code == .unavailable, "\(error)")
            }
            let waited = ContinuousClock.now - started
            appended.continuation.yield()
            try await holder.value
            // Given up on after its bound, long before the takeover let go of the lease row.
            #expect(waited < .seconds(15), "the append waited \(waited)")

            // The statement left behind, let through once the takeover committed, wrote nothing.
            try await waitUntilNoLockIsAwaited(postgres)
            #expect(try await store.records(shard: Self.shard, after: 0, limit: 10).isEmpty)
            // The shard's appends are free again: node-b's first record commits.
            let next = JournalRecord(shard: Self.shard, epoch: lease.epoch + 1, sequence: 1, payload: [2])
            try await store.append([next])
            #expect(try await store.records(shard: Self.shard, after: 0, limit: 10) == [next])
        }
    }

    private func waitUntilNoLockIsAwaited(_ store: PostgresStore) async throws {
        for _ in 0..<200 {
            let rows = try await store.client.query(
                "SELECT count(*)::int8 FROM pg_locks WHERE NOT granted", logger: PostgresStore.quiet)
            var waiting: Int64 = 0
            for try await count in rows.decode(Int64.self) { waiting = count }
            if waiting == 0 { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("a statement still waits for a lock")
    }
}
