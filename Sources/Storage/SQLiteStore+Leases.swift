import SQLiteNIO
import Trading

extension SQLiteStore {
    /// The same upsert as PostgreSQL's, inside a write transaction.
    public func acquireLease(shard: String, owner: String, ttlMillis: Int64, nowMillis: Int64) async throws
        -> ShardLease
    {
        let expires = leaseExpiry(nowMillis: nowMillis, ttlMillis: ttlMillis)
        let outcome = try await write("lease acquire") { db -> Result<ShardLease, StorageError> in
            let rows = try await db.query(
                """
                INSERT INTO shard_leases AS l (shard, owner, epoch, expires_at_ms) VALUES (?1, ?2, 1, ?3)
                ON CONFLICT (shard) DO UPDATE SET
                    owner = excluded.owner,
                    epoch = CASE WHEN l.owner = excluded.owner AND l.expires_at_ms > ?4
                        THEN l.epoch ELSE l.epoch + 1 END,
                    expires_at_ms = excluded.expires_at_ms
                WHERE l.owner = excluded.owner OR l.expires_at_ms <= ?4
                RETURNING epoch, expires_at_ms
                """, [.text(shard), .text(owner), .int64(expires), .int64(nowMillis)])
            if let row = rows.first {
                return .success(
                    ShardLease(
                        shard: shard, owner: owner, epoch: try row.int64("epoch"),
                        expiresAtMillis: try row.int64("expires_at_ms")))
            }
            let holder = try await db.query("SELECT owner FROM shard_leases WHERE shard = ?", [.text(shard)])
            let name = try holder.first?.text("owner") ?? "another node"
            return .failure(StorageError(.leaseHeld, "\(shard) is held by \(name)"))
        }
        return try outcome.get()
    }

    public func renewLease(shard: String, owner: String, epoch: Int64, ttlMillis: Int64, nowMillis: Int64)
        async throws
    {
        let expires = leaseExpiry(nowMillis: nowMillis, ttlMillis: ttlMillis)
        let renewed = try await write("lease renew") { db -> Bool in
            let rows = try await db.query(
                "UPDATE shard_leases SET expires_at_ms = ? WHERE shard = ? AND owner = ? AND epoch = ? AND expires_at_ms > 0 RETURNING epoch",
                [.int64(expires), .text(shard), .text(owner), .int64(epoch)])
            return !rows.isEmpty
        }
        guard renewed else { throw StorageError.staleEpoch(shard) }
    }

    /// All in one write transaction.
    public func renewLeases(
        owner: String, _ leases: [(shard: String, epoch: Int64)], ttlMillis: Int64, nowMillis: Int64
    ) async throws -> Set<String> {
        guard !leases.isEmpty else { return [] }
        let expires = leaseExpiry(nowMillis: nowMillis, ttlMillis: ttlMillis)
        return try await write("lease renew") { db -> Set<String> in
            var renewed = Set<String>()
            for lease in leases {
                let rows = try await db.query(
                    "UPDATE shard_leases SET expires_at_ms = ? WHERE shard = ? AND owner = ? AND epoch = ? AND expires_at_ms > 0 "
                        + "RETURNING shard",
                    [.int64(expires), .text(lease.shard), .text(owner), .int64(lease.epoch)])
                if !rows.isEmpty { renewed.insert(lease.shard) }
            }
            return renewed
        }
    }

    /// Marks the lease lapsed (the row and its epoch stay, so the next owner's epoch is higher).
    public func releaseLease(shard: String, owner: String, epoch: Int64) async throws {
        try await write("lease release") { db in
            _ = try await db.query(
                "UPDATE shard_leases SET expires_at_ms = 0 WHERE shard = ? AND owner = ? AND epoch = ?",
                [.text(shard), .text(owner), .int64(epoch)])
        }
    }

    public func leases() async throws -> [ShardLease] {
        let rows = try await read(
            "lease read", "SELECT shard, owner, epoch, expires_at_ms FROM shard_leases ORDER BY shard")
        return try rows.map {
            ShardLease(
                shard: try $0.text("shard"), owner: try $0.text("owner"), epoch: try $0.int64("epoch"),
                expiresAtMillis: try $0.int64("expires_at_ms"))
        }
    }

    public func putIfAbsent(key: String, value: [UInt8]) async throws -> [UInt8] {
        try await write("kv write") { db -> [UInt8] in
            _ = try await db.query(
                "INSERT INTO kv (key, value) VALUES (?, coalesce(?, X'')) ON CONFLICT (key) DO NOTHING",
                [.text(key), .bytes(value)])
            let rows = try await db.query("SELECT value FROM kv WHERE key = ?", [.text(key)])
            guard let row = rows.first else { throw StorageError(.corrupt, "kv key \(key) vanished") }
            return try row.bytes("value")
        }
    }

    public func value(forKey key: String) async throws -> [UInt8]? {
        let rows = try await read("kv read", "SELECT value FROM kv WHERE key = ?", [.text(key)])
        return try rows.first?.bytes("value")
    }
}
