import PostgresNIO
import Testing

@testable import Storage

/// The hot statements of the PostgreSQL store are prepared once per connection, so PostgreSQL may run them
/// with a generic plan, made without the batch's arrays: that plan must still find lease rows and existing
/// journal rows by index (a plan made while the tables were empty once scanned the whole journal per batch,
/// and order latency grew with it).
@Suite struct PostgresStatementTests {
    @Test func theJournalAppendsGenericPlanUsesIndexes() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            let plan = try await postgres.client.withConnection { connection -> [String] in
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "PREPARE append_plan(text[], bigint[], bigint[], bytea[], integer[]) AS "
                            + PostgresStore.appendSQL),
                    logger: PostgresStore.quiet
                ).drain()
                try await connection.query("SET plan_cache_mode = force_generic_plan", logger: PostgresStore.quiet)
                    .drain()
                let rows = try await connection.query(
                    """
                    EXPLAIN EXECUTE append_plan(
                        ARRAY['symbol/BTC-USD'], ARRAY[1::bigint], ARRAY[1::bigint], ARRAY['\\x00'::bytea], ARRAY[0])
                    """, logger: PostgresStore.quiet)
                var lines: [String] = []
                for try await line in rows.decode(String.self) { lines.append(line) }
                try await connection.query("DEALLOCATE append_plan", logger: PostgresStore.quiet).drain()
                try await connection.query("RESET plan_cache_mode", logger: PostgresStore.quiet).drain()
                return lines
            }
            #expect(plan.contains { $0.contains("Index") && $0.contains("journal_pkey") })
            #expect(plan.contains { $0.contains("Index") && $0.contains("shard_leases_pkey") })
            #expect(!plan.contains { $0.contains("Seq Scan on journal") }, "\(plan.joined(separator: "\n"))")
            #expect(!plan.contains { $0.contains("Seq Scan on shard_leases") }, "\(plan.joined(separator: "\n"))")
        }
    }

    /// Appends go through the prepared statement on every connection of the pool, each call refused or written
    /// as a unit as before.
    @Test func preparedAppendsStillRefuseStaleEpochsAndTakenSequences() async throws {
        try await withStore(.postgres) { store in
            let epoch = try await lease(store, "accounts/0042")
            for sequence in Int64(1)...20 {
                try await store.append([record("accounts/0042", sequence, epoch: epoch)])
            }
            await #expect(throws: StorageError.self) {
                try await store.append([record("accounts/0042", 21, epoch: epoch + 1)])
            }
            await #expect(throws: StorageError.self) {
                try await store.append([
                    record("accounts/0042", 21, epoch: epoch), record("accounts/0042", 5, epoch: epoch),
                ])
            }
            let written = try await store.records(shard: "accounts/0042", after: 0, limit: 100)
            #expect(written.map(\.sequence) == Array(Int64(1)...20))
        }
    }

    /// Snapshot payloads (megabytes for long histories) are compressed with lz4, not pglz, whose CPU delayed
    /// the journal commits running beside a save.
    @Test func snapshotsAreCompressedWithLZ4() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            let epoch = try await lease(store, "accounts/0007")
            let payload = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
            try await store.saveSnapshot(
                ShardSnapshot(shard: "accounts/0007", epoch: epoch, sequence: 9, payload: payload))
            let rows = try await postgres.client.query(
                "SELECT pg_column_compression(payload) FROM snapshots WHERE shard = 'accounts/0007'",
                logger: PostgresStore.quiet)
            var methods: [String?] = []
            for try await method in rows.decode(String?.self) { methods.append(method) }
            #expect(methods == ["lz4"])
            #expect(try await store.latestSnapshot(shard: "accounts/0007")?.payload == payload)
        }
    }
}
