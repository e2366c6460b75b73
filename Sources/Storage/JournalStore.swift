import Trading

/// One journaled command of one shard.
///
/// Shards are `symbol/BTC-USD` or `accounts/0417`; sequences are per shard, start at 1 and have no
/// gaps. The payload is opaque to the store (the actors encode their commands with `BinaryWriter`).
public struct JournalRecord: Sendable, Hashable {
    public var shard: String
    /// The writer's lease epoch (fencing token); the store refuses a record whose epoch is not the
    /// shard's current lease epoch.
    public var epoch: Int64
    public var sequence: Int64
    public var payload: [UInt8]

    public init(shard: String, epoch: Int64, sequence: Int64, payload: [UInt8]) {
        self.shard = shard
        self.epoch = epoch
        self.sequence = sequence
        self.payload = payload
    }
}

/// Where one record is in the journal: what a call to `append(_:after:)` may depend on.
public struct JournalPosition: Sendable, Hashable {
    public var shard: String
    /// The epoch the record is written at: a position is one record of one owner's journal.
    public var epoch: Int64
    public var sequence: Int64

    public init(shard: String, epoch: Int64, sequence: Int64) {
        self.shard = shard
        self.epoch = epoch
        self.sequence = sequence
    }
}

extension JournalRecord {
    /// Where this record is in the journal.
    public var position: JournalPosition { JournalPosition(shard: shard, epoch: epoch, sequence: sequence) }
}

/// The state of one shard as of `sequence` (every journal record up to it included).
public struct ShardSnapshot: Sendable, Hashable {
    public var shard: String
    public var epoch: Int64
    public var sequence: Int64
    public var payload: [UInt8]

    public init(shard: String, epoch: Int64, sequence: Int64, payload: [UInt8]) {
        self.shard = shard
        self.epoch = epoch
        self.sequence = sequence
        self.payload = payload
    }
}

/// A shard's ownership: the holder and the epoch that fences its writes.
public struct ShardLease: Sendable, Hashable {
    public var shard: String
    public var owner: String
    public var epoch: Int64
    /// Milliseconds since 1970 when the lease lapses unless renewed.
    public var expiresAtMillis: Int64

    public init(shard: String, owner: String, epoch: Int64, expiresAtMillis: Int64) {
        self.shard = shard
        self.owner = owner
        self.epoch = epoch
        self.expiresAtMillis = expiresAtMillis
    }
}

/// Durable journal, snapshots and leases: what makes a shard survive `kill -9` and move between nodes.
///
/// Two implementations: PostgreSQL (production, shared by the cluster) and SQLite (the embedded
/// single-node default). Both pass the same test suite.
public protocol JournalStore: Sendable {
    /// Creates or upgrades the schema. Versioned and idempotent: safe to run at every start and from
    /// several nodes at once.
    func migrate() async throws

    /// Appends records durably. Concurrent callers (all shards of the node) are group-committed: one
    /// database round trip carries many records, and each caller returns only after its records are
    /// committed.
    ///
    /// - Throws: `StorageError.staleEpoch` when a record's epoch is not its shard's current lease epoch
    ///   (none of that shard's records of this call are written); `StorageError.sequenceConflict` when
    ///   a (shard, sequence) already exists.
    func append(_ records: [JournalRecord]) async throws

    /// Whether `append(_:after:)` orders calls by their prerequisites. Callers of a store that does not must
    /// wait for the prerequisites to be durable themselves, and call it with none.
    var ordersAppendsByPrerequisites: Bool { get }

    /// `append`, committing `records` only in the same transaction as every record of `prerequisites` or after
    /// them: the call waits while they are not journaled yet, and fails when one cannot be any more (its call
    /// failed, or its shard was `abandon`ed at that epoch). So a record never outlives, in a crash, a record it
    /// depends on (a book's record the reservation of the order it books).
    ///
    /// Each prerequisite must already have been handed to `append`, or be about to be by a journal that calls
    /// `abandon` if it never will.
    ///
    /// With `awaitingDependents`, other shards' records will name these as prerequisites (reservations, which
    /// the book's record of their order follows): the store may hold them back briefly so that the dependent
    /// shares their transaction. Stores without a group commit append them at once.
    ///
    /// - Throws: as `append`; `StorageError.unavailable` when a prerequisite was not journaled.
    func append(_ records: [JournalRecord], after prerequisites: [JournalPosition], awaitingDependents: Bool)
        async throws

    /// Says that `shard`'s journal at `epoch` will append nothing more (it failed, or its shard moved): calls
    /// waiting for its records fail.
    func abandon(shard: String, epoch: Int64)

    /// Records of `shard` with sequence > `after`, ascending, at most `limit`.
    func records(shard: String, after: Int64, limit: Int) async throws -> [JournalRecord]

    /// The highest journaled sequence of `shard` (0 when none).
    func lastSequence(shard: String) async throws -> Int64

    /// The newest snapshot of `shard`.
    func latestSnapshot(shard: String) async throws -> ShardSnapshot?

    /// Stores a snapshot; fenced by epoch like `append`.
    func saveSnapshot(_ snapshot: ShardSnapshot) async throws

    /// Takes the lease of `shard` for `owner` if it is free, expired or already `owner`'s, bumping the
    /// epoch when the owner changes or the lease had lapsed. Returns the lease now held.
    ///
    /// - Throws: `StorageError.leaseHeld` when another owner holds an unexpired lease.
    func acquireLease(shard: String, owner: String, ttlMillis: Int64, nowMillis: Int64) async throws -> ShardLease

    /// Where recovery starts for each of `shards`: its latest snapshot and the first (at most `limit`) journal
    /// records after it, for many shards per round trip (a node taking over a cluster's ~1,000 shards).
    func recoveryStarts(shards: [String], limit: Int) async throws -> [String: RecoveryStart]

    /// Takes many leases for `owner` in one round trip, each as `acquireLease` would. Returns the leases taken;
    /// a shard missing from the result is held by another owner whose lease has not lapsed.
    func acquireLeases(shards: [String], owner: String, ttlMillis: Int64, nowMillis: Int64) async throws
        -> [ShardLease]

    /// Extends `owner`'s lease at `epoch`. Throws `StorageError.staleEpoch` if it is no longer theirs, or if it
    /// was released: a release is final, so a renewal racing a handoff never takes a released lease back.
    func renewLease(shard: String, owner: String, epoch: Int64, ttlMillis: Int64, nowMillis: Int64) async throws

    /// Extends many of `owner`'s leases in one round trip (a node renews every shard it owns every couple of
    /// seconds). Returns the shards renewed; a shard missing from the result is no longer `owner`'s at
    /// that epoch.
    func renewLeases(owner: String, _ leases: [(shard: String, epoch: Int64)], ttlMillis: Int64, nowMillis: Int64)
        async throws -> Set<String>

    /// Gives the lease up (handoff); a no-op when it is not held at `epoch`.
    func releaseLease(shard: String, owner: String, epoch: Int64) async throws

    /// All leases.
    func leases() async throws -> [ShardLease]

    /// The lease of one shard, if it was ever taken.
    func lease(shard: String) async throws -> ShardLease?

    /// Gives many of `owner`'s leases up in one round trip (a node handing every shard off).
    func releaseLeases(owner: String, _ leases: [(shard: String, epoch: Int64)]) async throws

    /// Stores `value` under `key` unless a value is there; returns the value that is stored now.
    /// Used for node-wide secrets created at first start (the JWT signing key).
    func putIfAbsent(key: String, value: [UInt8]) async throws -> [UInt8]

    func value(forKey key: String) async throws -> [UInt8]?

    /// Closes connections. Pending appends complete or fail first.
    func shutdown() async
}

/// Storage failures, with codes the actors act on.
public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case staleEpoch = "STALE_EPOCH"
        case sequenceConflict = "SEQUENCE_CONFLICT"
        case leaseHeld = "LEASE_HELD"
        case unavailable = "STORE_UNAVAILABLE"
        case corrupt = "STORE_CORRUPT"
    }

    public var code: Code
    /// Safe to log: never carries payloads or credentials.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func staleEpoch(_ shard: String) -> StorageError {
        StorageError(.staleEpoch, "write to \(shard) with a stale epoch refused")
    }
}

/// A shard's latest snapshot and the journal records that follow it (the first of them, when `records.count`
/// reached the limit asked for).
public struct RecoveryStart: Sendable {
    public var snapshot: ShardSnapshot?
    public var records: [JournalRecord]
    /// Whether `records` are all the records after the snapshot (fewer than the limit came back), so that the
    /// shard need not ask for more.
    public var isComplete: Bool

    public init(snapshot: ShardSnapshot?, records: [JournalRecord], isComplete: Bool = false) {
        self.snapshot = snapshot
        self.records = records
        self.isComplete = isComplete
    }
}

extension JournalStore {
    /// No ordering by prerequisites, for stores without a group commit (the tests' doubles).
    public var ordersAppendsByPrerequisites: Bool { false }

    /// `append` when there are no prerequisites; refuses any (see `ordersAppendsByPrerequisites`).
    public func append(_ records: [JournalRecord], after prerequisites: [JournalPosition], awaitingDependents: Bool)
        async throws
    {
        guard prerequisites.isEmpty else {
            throw StorageError(.unavailable, "this store does not order appends by prerequisites")
        }
        try await append(records)
    }

    /// `append(_:after:awaitingDependents:)` for records nothing waits for.
    public func append(_ records: [JournalRecord], after prerequisites: [JournalPosition]) async throws {
        try await append(records, after: prerequisites, awaitingDependents: false)
    }

    public func abandon(shard: String, epoch: Int64) {}

    /// Two reads per shard, for stores without a batched form; PostgreSQL reads every shard in two statements.
    public func recoveryStarts(shards: [String], limit: Int) async throws -> [String: RecoveryStart] {
        var starts: [String: RecoveryStart] = [:]
        for shard in shards {
            let snapshot = try await latestSnapshot(shard: shard)
            let records = try await records(shard: shard, after: snapshot?.sequence ?? 0, limit: limit)
            starts[shard] = RecoveryStart(snapshot: snapshot, records: records, isComplete: records.count < limit)
        }
        return starts
    }

    /// One `acquireLease` per shard, for stores without a batched form; PostgreSQL takes them in one statement.
    public func acquireLeases(shards: [String], owner: String, ttlMillis: Int64, nowMillis: Int64) async throws
        -> [ShardLease]
    {
        var taken: [ShardLease] = []
        for shard in shards {
            do {
                taken.append(
                    try await acquireLease(shard: shard, owner: owner, ttlMillis: ttlMillis, nowMillis: nowMillis))
            } catch let error as StorageError where error.code == .leaseHeld {
                continue
            }
        }
        return taken
    }

    /// Reads every lease; PostgreSQL reads the one row.
    public func lease(shard: String) async throws -> ShardLease? {
        try await leases().first { $0.shard == shard }
    }

    /// One `releaseLease` per lease, for stores without a batched form; PostgreSQL releases in one statement.
    public func releaseLeases(owner: String, _ leases: [(shard: String, epoch: Int64)]) async throws {
        for lease in leases { try await releaseLease(shard: lease.shard, owner: owner, epoch: lease.epoch) }
    }

    /// One `renewLease` per lease, for stores without a batched form (the test doubles); both database
    /// stores renew in one round trip.
    public func renewLeases(
        owner: String, _ leases: [(shard: String, epoch: Int64)], ttlMillis: Int64, nowMillis: Int64
    ) async throws -> Set<String> {
        var renewed = Set<String>()
        for lease in leases {
            do {
                try await renewLease(
                    shard: lease.shard, owner: owner, epoch: lease.epoch, ttlMillis: ttlMillis, nowMillis: nowMillis)
                renewed.insert(lease.shard)
            } catch let error as StorageError where error.code == .staleEpoch {
                continue
            }
        }
        return renewed
    }
}
