import PostgresNIO
import Trading

extension PostgresStore {
    /// One upsert decides the race: the row lock of `ON CONFLICT DO UPDATE` makes a second node wait for the
    /// first and then see its lease, which it may take only if it has lapsed.
    public func acquireLease(shard: String, owner: String, ttlMillis: Int64, nowMillis: Int64) async throws
        -> ShardLease
    {
        let expires = leaseExpiry(nowMillis: nowMillis, ttlMillis: ttlMillis)
        let acquired = try await attempt("lease acquire", on: control) { connection -> ShardLease? in
            let rows = try await connection.query(
                """
                INSERT INTO shard_leases AS l (shard, owner, epoch, expires_at_ms)
                VALUES (\(shard), \(owner), 1, \(expires))
                ON CONFLICT (shard) DO UPDATE SET
                    owner = EXCLUDED.owner,
                    epoch = CASE WHEN l.owner = EXCLUDED.owner AND l.expires_at_ms > \(nowMillis)
                        THEN l.epoch ELSE l.epoch + 1 END,
                    expires_at_ms = EXCLUDED.expires_at_ms
                WHERE l.owner = EXCLUDED.owner OR l.expires_at_ms <= \(nowMillis)
                RETURNING epoch, expires_at_ms
                """, logger: Self.quiet)
            var lease: ShardLease?
            for try await (epoch, expiresAt) in rows.decode((Int64, Int64).self) {
                lease = ShardLease(shard: shard, owner: owner, epoch: epoch, expiresAtMillis: expiresAt)
            }
            try await Self.confirmCommitted(on: connection)
            return lease
        }
        if let acquired { return acquired }
        let holder = try await leases(matching: shard).first
        throw StorageError(.leaseHeld, "\(shard) is held by \(holder?.owner ?? "another node")")
    }

    /// The upsert of `acquireLease` over the shards as an array, in shard order (so that two nodes taking
    /// overlapping sets lock the rows in the same order and cannot deadlock).
    public func acquireLeases(shards: [String], owner: String, ttlMillis: Int64, nowMillis: Int64) async throws
        -> [ShardLease]
    {
        guard !shards.isEmpty else { return [] }
        let expires = leaseExpiry(nowMillis: nowMillis, ttlMillis: ttlMillis)
        let sorted = Array(Set(shards)).sorted()
        return try await attempt("lease acquire", on: control) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO shard_leases AS l (shard, owner, epoch, expires_at_ms)
                SELECT s.shard, \(owner), 1, \(expires) FROM unnest(\(sorted)::text[]) AS s(shard) ORDER BY s.shard
                ON CONFLICT (shard) DO UPDATE SET
                    owner = EXCLUDED.owner,
                    epoch = CASE WHEN l.owner = EXCLUDED.owner AND l.expires_at_ms > \(nowMillis)
                        THEN l.epoch ELSE l.epoch + 1 END,
                    expires_at_ms = EXCLUDED.expires_at_ms
                WHERE l.owner = EXCLUDED.owner OR l.expires_at_ms <= \(nowMillis)
                RETURNING l.shard, l.epoch, l.expires_at_ms
                """, logger: Self.quiet)
            var taken: [ShardLease] = []
            for try await (shard, epoch, expiresAt) in rows.decode((String, Int64, Int64).self) {
                taken.append(ShardLease(shard: shard, owner: owner, epoch: epoch, expiresAtMillis: expiresAt))
            }
            try await Self.confirmCommitted(on: connection)
            return taken
        }
    }

    public func renewLease(shard: String, owner: String, epoch: Int64, ttlMillis: Int64, nowMillis: Int64)
        async throws
    {
        let expires = leaseExpiry(nowMillis: nowMillis, ttlMillis: ttlMillis)
        let renewed = try await attempt("lease renew", on: control) { connection in
            let rows = try await connection.query(
                """
                UPDATE shard_leases SET expires_at_ms = \(expires)
                WHERE shard = \(shard) AND owner = \(owner) AND epoch = \(epoch) AND expires_at_ms > 0
                RETURNING epoch
                """, logger: Self.quiet)
            let count = try await rows.collect().count
            try await Self.confirmCommitted(on: connection)
            return count
        }
        guard renewed == 1 else { throw StorageError.staleEpoch(shard) }
    }

    /// One statement over the pairs as arrays. The rows are locked in shard order first, the order in which
    /// journal appends lock them `FOR SHARE`: locking them in any other order deadlocks with the appends.
    public func renewLeases(
        owner: String, _ leases: [(shard: String, epoch: Int64)], ttlMillis: Int64, nowMillis: Int64
    ) async throws -> Set<String> {
        guard !leases.isEmpty else { return [] }
        let expires = leaseExpiry(nowMillis: nowMillis, ttlMillis: ttlMillis)
        let shards = leases.map(\.shard)
        let epochs = leases.map(\.epoch)
        return try await attempt("lease renew", on: control) { connection in
            let rows = try await connection.query(
                """
                WITH locked AS (
                    SELECT l.shard FROM shard_leases l
                    JOIN unnest(\(shards)::text[], \(epochs)::bigint[]) AS r(shard, epoch)
                        ON l.shard = r.shard AND l.epoch = r.epoch
                    WHERE l.owner = \(owner) AND l.expires_at_ms > 0
                    ORDER BY l.shard
                    FOR UPDATE OF l
                )
                UPDATE shard_leases AS l SET expires_at_ms = \(expires)
                FROM locked WHERE l.shard = locked.shard
                RETURNING l.shard
                """, logger: Self.quiet)
            var renewed = Set<String>()
            for try await shard in rows.decode(String.self) { renewed.insert(shard) }
            try await Self.confirmCommitted(on: connection)
            return renewed
        }
    }

    /// Marks the lease lapsed (the row and its epoch stay, so the next owner's epoch is higher).
    public func releaseLease(shard: String, owner: String, epoch: Int64) async throws {
        try await attempt("lease release", on: control) { connection in
            try await connection.query(
                """
                UPDATE shard_leases SET expires_at_ms = 0
                WHERE shard = \(shard) AND owner = \(owner) AND epoch = \(epoch)
                """, logger: Self.quiet
            ).drain()
        }
    }

    /// One statement over the pairs as arrays, locking in shard order like `renewLeases`; a lease no longer
    /// `owner`'s at that epoch is left alone.
    public func releaseLeases(owner: String, _ leases: [(shard: String, epoch: Int64)]) async throws {
        guard !leases.isEmpty else { return }
        let shards = leases.map(\.shard)
        let epochs = leases.map(\.epoch)
        try await attempt("lease release", on: control) { connection in
            try await connection.query(
                """
                WITH locked AS (
                    SELECT l.shard FROM shard_leases l
                    JOIN unnest(\(shards)::text[], \(epochs)::bigint[]) AS r(shard, epoch)
                        ON l.shard = r.shard AND l.epoch = r.epoch
                    WHERE l.owner = \(owner)
                    ORDER BY l.shard
                    FOR UPDATE OF l
                )
                UPDATE shard_leases AS l SET expires_at_ms = 0
                FROM locked WHERE l.shard = locked.shard
                """, logger: Self.quiet
            ).drain()
        }
    }

    public func leases() async throws -> [ShardLease] {
        try await leases(matching: nil)
    }

    public func lease(shard: String) async throws -> ShardLease? {
        try await leases(matching: shard).first
    }

    private func leases(matching shard: String?) async throws -> [ShardLease] {
        try await attempt("lease read", on: control) { connection in
            let rows = try await connection.query(
                """
                SELECT shard, owner, epoch, expires_at_ms FROM shard_leases
                WHERE \(shard)::text IS NULL OR shard = \(shard) ORDER BY shard
                """, logger: Self.quiet)
            var leases: [ShardLease] = []
            for try await (shard, owner, epoch, expires) in rows.decode((String, String, Int64, Int64).self) {
                leases.append(ShardLease(shard: shard, owner: owner, epoch: epoch, expiresAtMillis: expires))
            }
            return leases
        }
    }

    public func putIfAbsent(key: String, value: [UInt8]) async throws -> [UInt8] {
        try await attempt("kv write") {
            let inserted = try await client.query(
                """
                INSERT INTO kv (key, value) VALUES (\(key), \(ByteBuffer(bytes: value)))
                ON CONFLICT (key) DO NOTHING RETURNING value
                """, logger: Self.quiet)
            for try await stored in inserted.decode(ByteBuffer.self) {
                return stored.byteArray
            }
            // Another writer won; its row is committed (ON CONFLICT waited for it) and this new statement sees it.
            guard let stored = try await storedValue(forKey: key) else {
                throw StorageError(.corrupt, "kv key \(key) vanished")
            }
            return stored
        }
    }

    public func value(forKey key: String) async throws -> [UInt8]? {
        try await attempt("kv read") { try await storedValue(forKey: key) }
    }

    private func storedValue(forKey key: String) async throws -> [UInt8]? {
        let rows = try await client.query("SELECT value FROM kv WHERE key = \(key)", logger: Self.quiet)
        for try await stored in rows.decode(ByteBuffer.self) {
            return stored.byteArray
        }
        return nil
    }
}
