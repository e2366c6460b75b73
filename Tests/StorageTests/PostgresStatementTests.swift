import PostgresNIO
import Testing
import Trading

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
                        unsafeSQL: "PREPARE append_plan(text[], bigint[], bigint[], bytea[], integer[], integer[], "
                            + "integer[]) AS " + PostgresStore.appendSQL),
                    logger: PostgresStore.quiet
                ).drain()
                try await connection.query("SET plan_cache_mode = force_generic_plan", logger: PostgresStore.quiet)
                    .drain()
                let rows = try await connection.query(
                    """
                    EXPLAIN EXECUTE append_plan(
                        ARRAY['symbol/BTC-USD'], ARRAY[1::bigint], ARRAY[1::bigint], ARRAY['\\x00'::bytea], ARRAY[0],
                        ARRAY[]::integer[], ARRAY[]::integer[])
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

    /// Live batches carry new history only, so the projection first inserts trade and transaction rows
    /// plainly (no `ON CONFLICT` arbiter check, half of PostgreSQL's cost per row); that statement refuses a
    /// row already written, and the store then writes the batch with the statement that skips such rows.
    @Test func projectionInsertsHistoryPlainlyAndFallsBackWhenABatchRepeatsRows() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            #expect(!PostgresProjection.insertSQL.contains("DO NOTHING"))
            #expect(PostgresProjection.sql.components(separatedBy: "DO NOTHING").count == 3)
            let first = ReadModelSamples.batch(shard: "accounts/0009", sequence: 3, user: 9)
            try await store.project(first)

            // The plain statement alone: the repeated history rows fail it, and nothing of it is written.
            var repeated = ReadModelSamples.batch(shard: "accounts/0009", sequence: 5, user: 9, entries: 6)
            repeated.trades[0].fee = Amount(units: 1)
            let binds = PostgresStore.projectionBindings(repeated.coalesced())
            let error = await #expect(throws: PSQLError.self) {
                for try await _ in try await postgres.client.execute(
                    ProjectionInsertStatement(bindings: binds), logger: PostgresStore.quiet)
                {}
            }
            #expect(error.flatMap { PostgresStore.sqlState(of: $0) } == "23505")
            #expect(try await store.projectionOffset(shard: "accounts/0009") == 3)
            #expect(try await store.transactions(user: 9, limit: 100).count == 4)

            // Through the store: the new rows are written, the ones already there are left as they are.
            try await store.project(repeated)
            #expect(try await store.projectionOffset(shard: "accounts/0009") == 5)
            let entries = try await store.transactions(user: 9, limit: 100)
            #expect(entries.map(\.entryID) == [6, 5, 4, 3, 2, 1])
            #expect(try await store.trades(user: 9, limit: 100).map(\.fee) == first.trades.reversed().map(\.fee))

            // A batch of new rows only goes through the plain statement and is written whole.
            var later = ReadModelSamples.batch(shard: "accounts/0009", sequence: 7, user: 10)
            later.offsets["accounts/0009"] = 7
            try await store.project(later)
            #expect(try await store.transactions(user: 10, limit: 100).count == later.transactions.count)
            #expect(try await store.trades(user: 10, limit: 100).count == later.trades.count)
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
