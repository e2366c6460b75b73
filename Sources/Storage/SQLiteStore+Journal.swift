import SQLiteNIO
import Trading

extension SQLiteStore {
    /// Rows per multi-row statement (4 parameters each, well under SQLite's parameter limit).
    static let rowsPerStatement = 500

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

    /// One write transaction per batch: read the batch's lease epochs and existing sequences, then insert
    /// the records of every call that is neither stale nor conflicting, a few hundred rows per statement.
    /// The transaction holds SQLite's write lock throughout, so no lease can change in between. A call is
    /// written whole or not at all, and only the offending call fails — with the calls that depend on it.
    func writeBatch(_ requests: [[JournalRecord]], dependencies: [GroupCommitter.Dependency] = []) async throws
        -> [StorageError?]
    {
        let outcomes = try await write("journal append") { db -> [StorageError?] in
            let shards = Array(Set(requests.joined().map(\.shard)))
            var epochs: [String: Int64] = [:]
            for chunk in shards.chunked(by: Self.rowsPerStatement) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let rows = try await db.query(
                    "SELECT shard, epoch FROM shard_leases WHERE shard IN (\(marks))", chunk.map { .text($0) })
                for row in rows {
                    epochs[try row.text("shard")] = try row.int64("epoch")
                }
            }
            var outcomes = requests.map { records -> StorageError? in
                guard let stale = records.first(where: { epochs[$0.shard] != $0.epoch }) else { return nil }
                return StorageError.staleEpoch(stale.shard)
            }

            let candidates = requests.indices.filter { outcomes[$0] == nil }.flatMap { call in
                requests[call].map { (call, $0) }
            }
            var owner: [String: [Int64: Int]] = [:]
            for (call, record) in candidates {
                owner[record.shard, default: [:]][record.sequence] = call
            }
            for chunk in candidates.chunked(by: Self.rowsPerStatement) {
                let marks = Array(repeating: "(?, ?)", count: chunk.count).joined(separator: ", ")
                let binds = chunk.flatMap { [SQLiteData.text($0.1.shard), .int64($0.1.sequence)] }
                let rows = try await db.query(
                    "SELECT shard, seq FROM journal WHERE (shard, seq) IN (VALUES \(marks))", binds)
                for row in rows {
                    let shard = try row.text("shard")
                    if let call = owner[shard]?[try row.int64("seq")] {
                        outcomes[call] = StorageError(.sequenceConflict, "a sequence of \(shard) is already journaled")
                    }
                }
            }

            for dependency in dependencies where outcomes[dependency.prerequisite] != nil {
                outcomes[dependency.dependent] = outcomes[dependency.dependent] ?? GroupCommitter.prerequisiteError
            }
            let accepted = candidates.filter { outcomes[$0.0] == nil }.map(\.1)
            for chunk in accepted.chunked(by: Self.rowsPerStatement) {
                let marks = Array(repeating: "(?, ?, ?, coalesce(?, X''))", count: chunk.count)
                    .joined(separator: ", ")
                let binds = chunk.flatMap {
                    [SQLiteData.text($0.shard), .int64($0.sequence), .int64($0.epoch), .bytes($0.payload)]
                }
                _ = try await db.query("INSERT INTO journal (shard, seq, epoch, payload) VALUES \(marks)", binds)
            }
            return outcomes
        }
        let refused = outcomes.count { $0?.code == .staleEpoch }
        if refused > 0 { StorageMetrics.staleEpochRefusals.increment(by: refused) }
        return outcomes
    }

    public func records(shard: String, after: Int64, limit: Int) async throws -> [JournalRecord] {
        guard limit > 0 else { return [] }
        let rows = try await read(
            "journal read", "SELECT seq, epoch, payload FROM journal WHERE shard = ? AND seq > ? ORDER BY seq LIMIT ?",
            [.text(shard), .int64(after), .int64(Int64(limit))])
        return try rows.map {
            JournalRecord(
                shard: shard, epoch: try $0.int64("epoch"), sequence: try $0.int64("seq"),
                payload: try $0.bytes("payload"))
        }
    }

    public func lastSequence(shard: String) async throws -> Int64 {
        let rows = try await read(
            "journal read", "SELECT coalesce(max(seq), 0) AS last FROM journal WHERE shard = ?", [.text(shard)])
        return try rows.first?.int64("last") ?? 0
    }

    public func latestSnapshot(shard: String) async throws -> ShardSnapshot? {
        let rows = try await read(
            "snapshot read", "SELECT seq, epoch, payload FROM snapshots WHERE shard = ? ORDER BY seq DESC LIMIT 1",
            [.text(shard)])
        guard let row = rows.first else { return nil }
        return ShardSnapshot(
            shard: shard, epoch: try row.int64("epoch"), sequence: try row.int64("seq"),
            payload: try row.bytes("payload"))
    }

    /// Saves the snapshot if `snapshot.epoch` is the shard's lease epoch and deletes all but it and the
    /// newest `snapshotsKept - 1` others, in one write transaction.
    public func saveSnapshot(_ snapshot: ShardSnapshot) async throws {
        let saved = try await write("snapshot save") { db -> Bool in
            let lease = try await db.query(
                "SELECT 1 FROM shard_leases WHERE shard = ? AND epoch = ?",
                [.text(snapshot.shard), .int64(snapshot.epoch)])
            guard !lease.isEmpty else { return false }
            _ = try await db.query(
                """
                INSERT OR REPLACE INTO snapshots (shard, seq, epoch, payload) VALUES (?, ?, ?, coalesce(?, X''))
                """,
                [.text(snapshot.shard), .int64(snapshot.sequence), .int64(snapshot.epoch), .bytes(snapshot.payload)])
            _ = try await db.query(
                """
                DELETE FROM snapshots WHERE shard = ?1 AND seq <> ?2 AND seq NOT IN (
                    SELECT seq FROM snapshots WHERE shard = ?1 AND seq <> ?2 ORDER BY seq DESC LIMIT ?3
                )
                """, [.text(snapshot.shard), .int64(snapshot.sequence), .int64(Int64(Self.snapshotsKept - 1))])
            return true
        }
        guard saved else {
            StorageMetrics.staleEpochRefusals.increment()
            throw StorageError.staleEpoch(snapshot.shard)
        }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
