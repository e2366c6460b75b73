import Storage

/// A test double that forwards everything to a real store but the appends; a conformer writes its own `append`
/// (and, to keep the store's ordering by prerequisites, `ordersAppendsByPrerequisites`, the prerequisite
/// `append` and `abandon`) and overrides what it fakes.
public protocol ForwardingStore: JournalStore {
    var base: any JournalStore { get }
}

extension ForwardingStore {
    public func migrate() async throws { try await base.migrate() }
    public func records(shard: String, after: Int64, limit: Int) async throws -> [JournalRecord] {
        try await base.records(shard: shard, after: after, limit: limit)
    }
    public func lastSequence(shard: String) async throws -> Int64 { try await base.lastSequence(shard: shard) }
    public func latestSnapshot(shard: String) async throws -> ShardSnapshot? {
        try await base.latestSnapshot(shard: shard)
    }
    public func saveSnapshot(_ snapshot: ShardSnapshot) async throws { try await base.saveSnapshot(snapshot) }
    public func acquireLease(shard: String, owner: String, ttlMillis: Int64, nowMillis: Int64) async throws
        -> ShardLease
    {
        try await base.acquireLease(shard: shard, owner: owner, ttlMillis: ttlMillis, nowMillis: nowMillis)
    }
    public func renewLease(shard: String, owner: String, epoch: Int64, ttlMillis: Int64, nowMillis: Int64) async throws
    {
        try await base.renewLease(shard: shard, owner: owner, epoch: epoch, ttlMillis: ttlMillis, nowMillis: nowMillis)
    }
    public func releaseLease(shard: String, owner: String, epoch: Int64) async throws {
        try await base.releaseLease(shard: shard, owner: owner, epoch: epoch)
    }
    public func leases() async throws -> [ShardLease] { try await base.leases() }
    public func putIfAbsent(key: String, value: [UInt8]) async throws -> [UInt8] {
        try await base.putIfAbsent(key: key, value: value)
    }
    public func value(forKey key: String) async throws -> [UInt8]? { try await base.value(forKey: key) }
    public func shutdown() async { await base.shutdown() }
}
