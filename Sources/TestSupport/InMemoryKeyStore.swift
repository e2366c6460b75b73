import Storage
import Synchronization
import Trading

/// A `JournalStore` in memory, for tests that need its key-value part (the API's JWT key).
///
/// Journal, snapshots and leases are kept too, with the protocol's basic rules (contiguous sequences,
/// epoch fencing, one lease holder), so it can stand in wherever a store is required.
public final class InMemoryKeyStore: JournalStore {
    private struct State {
        var values: [String: [UInt8]] = [:]
        var journal: [String: [JournalRecord]] = [:]
        var snapshots: [String: ShardSnapshot] = [:]
        var leases: [String: ShardLease] = [:]
    }

    private let state = Mutex(State())
    private let behavesLikeANetwork: Bool
    private let snapshotDelay = Mutex(Duration.zero)

    /// Makes every snapshot write take `delay` (a slow database under a handoff).
    public func setSnapshotDelay(_ delay: Duration) { snapshotDelay.withLock { $0 = delay } }

    /// A store holding `values` already (e.g. a pre-made signing key, to keep tests fast).
    /// - Parameter behavesLikeANetwork: journal, snapshot and lease writes then take a millisecond and fail with
    ///   `CancellationError` when their task is cancelled, as the PostgreSQL client's do.
    public init(values: [String: [UInt8]] = [:], behavesLikeANetwork: Bool = false) {
        self.behavesLikeANetwork = behavesLikeANetwork
        state.withLock { $0.values = values }
    }

    /// A round trip: a suspension that fails when the task is cancelled (see `init`).
    private func roundTrip() async throws {
        if behavesLikeANetwork { try await Task.sleep(for: .milliseconds(1)) }
    }

    public func migrate() async throws {}

    public func append(_ records: [JournalRecord]) async throws {
        try await roundTrip()
        try state.withLock { state in
            for record in records {
                guard state.leases[record.shard]?.epoch ?? record.epoch == record.epoch else {
                    throw StorageError.staleEpoch(record.shard)
                }
                let last = state.journal[record.shard]?.last?.sequence ?? 0
                guard record.sequence == last + 1 else {
                    throw StorageError(.sequenceConflict, "\(record.shard) sequence \(record.sequence) after \(last)")
                }
                state.journal[record.shard, default: []].append(record)
            }
        }
    }

    public func records(shard: String, after: Int64, limit: Int) async throws -> [JournalRecord] {
        state.withLock { Array(($0.journal[shard] ?? []).filter { $0.sequence > after }.prefix(limit)) }
    }

    public func lastSequence(shard: String) async throws -> Int64 {
        state.withLock { $0.journal[shard]?.last?.sequence ?? 0 }
    }

    public func latestSnapshot(shard: String) async throws -> ShardSnapshot? {
        state.withLock { $0.snapshots[shard] }
    }

    public func saveSnapshot(_ snapshot: ShardSnapshot) async throws {
        try await roundTrip()
        let delay = snapshotDelay.withLock { $0 }
        if delay > .zero { try await Task.sleep(for: delay) }
        try state.withLock { state in
            guard state.leases[snapshot.shard]?.epoch ?? snapshot.epoch == snapshot.epoch else {
                throw StorageError.staleEpoch(snapshot.shard)
            }
            state.snapshots[snapshot.shard] = snapshot
        }
    }

    public func acquireLease(shard: String, owner: String, ttlMillis: Int64, nowMillis: Int64) async throws
        -> ShardLease
    {
        try state.withLock { state in
            let expiry = nowMillis + ttlMillis
            guard let lease = state.leases[shard] else {
                let fresh = ShardLease(shard: shard, owner: owner, epoch: 1, expiresAtMillis: expiry)
                state.leases[shard] = fresh
                return fresh
            }
            let lapsed = lease.expiresAtMillis <= nowMillis
            guard lease.owner == owner || lapsed else { throw StorageError(.leaseHeld, "\(shard) is held") }
            let epoch = lease.owner != owner || lapsed ? lease.epoch + 1 : lease.epoch
            let renewed = ShardLease(shard: shard, owner: owner, epoch: epoch, expiresAtMillis: expiry)
            state.leases[shard] = renewed
            return renewed
        }
    }

    public func renewLease(shard: String, owner: String, epoch: Int64, ttlMillis: Int64, nowMillis: Int64)
        async throws
    {
        try state.withLock { state in
            guard let lease = state.leases[shard], lease.owner == owner, lease.epoch == epoch, lease.expiresAtMillis > 0
            else { throw StorageError.staleEpoch(shard) }
            state.leases[shard]?.expiresAtMillis = nowMillis + ttlMillis
        }
    }

    public func releaseLease(shard: String, owner: String, epoch: Int64) async throws {
        try await roundTrip()
        state.withLock { state in
            guard let lease = state.leases[shard], lease.owner == owner, lease.epoch == epoch else { return }
            state.leases[shard]?.expiresAtMillis = 0
        }
    }

    public func leases() async throws -> [ShardLease] {
        state.withLock { Array($0.leases.values) }
    }

    public func putIfAbsent(key: String, value: [UInt8]) async throws -> [UInt8] {
        state.withLock { state in
            if let existing = state.values[key] { return existing }
            state.values[key] = value
            return value
        }
    }

    public func value(forKey key: String) async throws -> [UInt8]? {
        state.withLock { $0.values[key] }
    }

    public func shutdown() async {}
}
