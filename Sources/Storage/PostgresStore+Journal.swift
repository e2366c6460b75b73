import PostgresNIO
import Trading

extension PostgresStore {
    public func append(_ records: [JournalRecord]) async throws {
        try await committer.submit(records)
    }

    public var ordersAppendsByPrerequisites: Bool { true }

    public func append(_ records: [JournalRecord], after prerequisites: [JournalPosition], awaitingDependents: Bool)
        async throws
    {
        try await committer.submit(records, after: prerequisites, awaitingDependents: awaitingDependents)
    }

    public func abandon(shard: String, epoch: Int64) {
        committer.abandon(shard: shard, epoch: epoch)
    }

    /// One statement, one round trip, for a whole batch of calls.
    ///
    /// The records travel as five arrays (`$5` numbers each record's call). The statement locks the batch's
    /// lease rows `FOR SHARE` (in shard order, one index lookup each), so a concurrent `acquireLease` waits for it, and a lease taken over before the
    /// lock is seen with its new epoch: a write with a superseded epoch can never commit. A call is written
    /// whole or not at all: a call with any record whose (shard, epoch) is not the current lease, or whose
    /// (shard, sequence) exists, inserts nothing, and only that call fails — with the calls that depend on it
    /// (`$6`/`$7`: dependent and prerequisite, as numbers of calls).
    func writeBatch(_ requests: [[JournalRecord]], dependencies: [GroupCommitter.Dependency] = []) async throws
        -> [StorageError?]
    {
        var columns = PostgresArrayColumns(
            rows: requests.reduce(0) { $0 + $1.count }, elements: [.text, .int8, .int8, .bytea, .int4])
        for (call, records) in requests.enumerated() {
            for record in records {
                columns.add(record.shard)
                columns.add(record.sequence)
                columns.add(record.epoch)
                columns.add(record.payload)
                columns.add(Int32(call))
            }
        }
        var binds = PostgresBindings(capacity: 7)
        columns.bind(into: &binds)
        binds.append(dependencies.map { Int32($0.dependent) })
        binds.append(dependencies.map { Int32($0.prerequisite) })

        var stale = Set<Int>()
        var taken = Set<Int>()
        var blocked = Set<Int>()
        var inserted = [Int: Int]()
        let statement = JournalAppendStatement(bindings: binds)
        let rows = try await attempt("journal append") {
            try await leased(from: client, within: Self.connectionWait) { connection in
                var rows: [JournalAppendStatement.Row] = []
                for try await row in try await connection.execute(statement, logger: Self.quiet) { rows.append(row) }
                try await Self.confirmCommitted(on: connection)
                return rows
            }
        }
        for (kind, call, count) in rows {
            switch kind {
            case 1: stale.insert(Int(call))
            case 2: taken.insert(Int(call))
            case 4: blocked.insert(Int(call))
            default: inserted[Int(call)] = Int(count)
            }
        }
        if !stale.isEmpty { StorageMetrics.staleEpochRefusals.increment(by: stale.count) }
        return requests.enumerated().map { call, records -> StorageError? in
            let shard = records.first?.shard ?? ""
            if stale.contains(call) { return StorageError.staleEpoch(shard) }
            if taken.contains(call) {
                return StorageError(.sequenceConflict, "a sequence of \(shard) is already journaled")
            }
            if blocked.contains(call) { return GroupCommitter.prerequisiteError }
            if inserted[call, default: 0] != records.count {
                return StorageError(.sequenceConflict, "a sequence of \(shard) is already journaled")
            }
            return nil
        }
    }

    static let appendSQL = """
        WITH input AS (
            SELECT t.shard, t.seq, t.epoch, t.payload, t.call
            FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bytea[], $5::integer[])
                AS t(shard, seq, epoch, payload, call)
        ),
        lease AS (
            SELECT l.shard, l.epoch
            FROM (SELECT DISTINCT shard FROM input ORDER BY shard) s
            CROSS JOIN LATERAL (
                SELECT shard, epoch FROM shard_leases WHERE shard = s.shard FOR SHARE
            ) l
        ),
        stale AS (
            SELECT DISTINCT i.call FROM input i
            LEFT JOIN lease l ON l.shard = i.shard AND l.epoch = i.epoch
            WHERE l.shard IS NULL
        ),
        taken AS (
            SELECT DISTINCT i.call FROM input i
            CROSS JOIN LATERAL (
                SELECT 1 FROM journal j WHERE j.shard = i.shard AND j.seq = i.seq LIMIT 1
            ) j
        ),
        blocked AS (
            SELECT DISTINCT d.dependent AS call
            FROM unnest($6::integer[], $7::integer[]) AS d(dependent, prerequisite)
            WHERE d.prerequisite IN (SELECT call FROM stale) OR d.prerequisite IN (SELECT call FROM taken)
        ),
        inserted AS (
            INSERT INTO journal (shard, seq, epoch, payload)
            SELECT i.shard, i.seq, i.epoch, i.payload FROM input i
            WHERE i.call NOT IN (SELECT call FROM stale) AND i.call NOT IN (SELECT call FROM taken)
                AND i.call NOT IN (SELECT call FROM blocked)
            ON CONFLICT (shard, seq) DO NOTHING
            RETURNING shard, seq
        )
        SELECT 1::integer, call, 0::bigint FROM stale
        UNION ALL
        SELECT 2::integer, call, 0::bigint FROM taken
        UNION ALL
        SELECT 4::integer, call, 0::bigint FROM blocked
        UNION ALL
        SELECT 3::integer, i.call, count(*)::bigint
        FROM inserted n JOIN input i ON i.shard = n.shard AND i.seq = n.seq
        GROUP BY i.call
        """

    public func records(shard: String, after: Int64, limit: Int) async throws -> [JournalRecord] {
        guard limit > 0 else { return [] }
        return try await attempt("journal read") {
            let rows = try await client.query(
                """
                SELECT seq, epoch, payload FROM journal
                WHERE shard = \(shard) AND seq > \(after) ORDER BY seq LIMIT \(Int64(limit))
                """, logger: Self.quiet)
            var records: [JournalRecord] = []
            for try await (sequence, epoch, payload) in rows.decode((Int64, Int64, ByteBuffer).self) {
                records.append(
                    JournalRecord(shard: shard, epoch: epoch, sequence: sequence, payload: payload.byteArray))
            }
            return records
        }
    }

    /// Two statements whatever the number of shards: every latest snapshot, then every journal head after it
    /// (a lateral join per shard over the `(shard, seq)` key).
    public func recoveryStarts(shards: [String], limit: Int) async throws -> [String: RecoveryStart] {
        guard !shards.isEmpty else { return [:] }
        var snapshots: [String: ShardSnapshot] = [:]
        try await attempt("snapshot read") {
            let rows = try await client.query(
                """
                SELECT r.shard, s.seq, s.epoch, s.payload FROM unnest(\(shards)::text[]) AS r(shard)
                CROSS JOIN LATERAL (
                    SELECT seq, epoch, payload FROM snapshots WHERE shard = r.shard ORDER BY seq DESC LIMIT 1
                ) s
                """, logger: Self.quiet)
            for try await (shard, sequence, epoch, payload) in rows.decode((String, Int64, Int64, ByteBuffer).self) {
                snapshots[shard] = ShardSnapshot(
                    shard: shard, epoch: epoch, sequence: sequence, payload: payload.byteArray)
            }
        }
        let afters = shards.map { snapshots[$0]?.sequence ?? 0 }
        var records: [String: [JournalRecord]] = [:]
        if limit > 0 {
            try await attempt("journal read") {
                let rows = try await client.query(
                    """
                    SELECT r.shard, j.seq, j.epoch, j.payload
                    FROM unnest(\(shards)::text[], \(afters)::bigint[]) AS r(shard, after)
                    CROSS JOIN LATERAL (
                        SELECT seq, epoch, payload FROM journal
                        WHERE shard = r.shard AND seq > r.after ORDER BY seq LIMIT \(Int64(limit))
                    ) j
                    ORDER BY r.shard, j.seq
                    """, logger: Self.quiet)
                for try await (shard, sequence, epoch, payload) in rows.decode(
                    (String, Int64, Int64, ByteBuffer).self)
                {
                    records[shard, default: []].append(
                        JournalRecord(shard: shard, epoch: epoch, sequence: sequence, payload: payload.byteArray))
                }
            }
        }
        var starts: [String: RecoveryStart] = [:]
        for shard in shards {
            let head = records[shard] ?? []
            starts[shard] = RecoveryStart(snapshot: snapshots[shard], records: head, isComplete: head.count < limit)
        }
        return starts
    }

    public func lastSequence(shard: String) async throws -> Int64 {
        try await attempt("journal read") {
            let rows = try await client.query(
                "SELECT coalesce(max(seq), 0)::bigint FROM journal WHERE shard = \(shard)", logger: Self.quiet)
            for try await last in rows.decode(Int64.self) {
                return last
            }
            return 0
        }
    }

    public func latestSnapshot(shard: String) async throws -> ShardSnapshot? {
        try await attempt("snapshot read") {
            let rows = try await client.query(
                "SELECT seq, epoch, payload FROM snapshots WHERE shard = \(shard) ORDER BY seq DESC LIMIT 1",
                logger: Self.quiet)
            for try await (sequence, epoch, payload) in rows.decode((Int64, Int64, ByteBuffer).self) {
                return ShardSnapshot(shard: shard, epoch: epoch, sequence: sequence, payload: payload.byteArray)
            }
            return nil
        }
    }

    /// Saves the snapshot if `snapshot.epoch` is the shard's lease epoch (checked and locked in the same
    /// statement, as for appends) and deletes all but the newest `snapshotsKept`.
    public func saveSnapshot(_ snapshot: ShardSnapshot) async throws {
        var binds = PostgresBindings(capacity: 5)
        binds.append(snapshot.shard)
        binds.append(snapshot.epoch)
        binds.append(snapshot.sequence)
        binds.append(ByteBuffer(bytes: snapshot.payload))
        binds.append(Int64(Self.snapshotsKept - 1))
        let saved = try await attempt("snapshot save") {
            let rows = try await client.query(
                PostgresQuery(unsafeSQL: Self.saveSnapshotSQL, binds: binds), logger: Self.quiet)
            var saved: Int64 = 0
            for try await count in rows.decode(Int64.self) {
                saved = count
            }
            return saved
        }
        guard saved == 1 else {
            StorageMetrics.staleEpochRefusals.increment()
            throw StorageError.staleEpoch(snapshot.shard)
        }
    }

    static let saveSnapshotSQL = """
        WITH lease AS (
            SELECT shard FROM shard_leases WHERE shard = $1 AND epoch = $2 FOR SHARE
        ),
        saved AS (
            INSERT INTO snapshots (shard, seq, epoch, payload)
            SELECT $1, $3, $2, $4 FROM lease
            ON CONFLICT (shard, seq) DO UPDATE
                SET epoch = EXCLUDED.epoch, payload = EXCLUDED.payload, created_at = now()
            RETURNING seq
        ),
        pruned AS (
            DELETE FROM snapshots s
            WHERE s.shard = $1 AND s.seq <> $3 AND EXISTS (SELECT 1 FROM saved)
              AND s.seq NOT IN (
                  SELECT seq FROM snapshots WHERE shard = $1 AND seq <> $3 ORDER BY seq DESC LIMIT $5
              )
        )
        SELECT count(*)::bigint FROM saved
        """
}

/// The journal append as a prepared statement: PostgreSQL parses, analyzes and plans it once per connection
/// instead of once per batch (planning this statement cost more of the server's CPU than running it).
struct JournalAppendStatement: PostgresPreparedStatement {
    static let name = "bourse_journal_append_v2"
    static var sql: String { PostgresStore.appendSQL }
    typealias Row = (Int32, Int32, Int64)

    var bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
