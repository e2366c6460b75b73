/// What one node does about the shards the assignment gives it or takes away: a pure state machine that
/// returns actions (take a lease, recover, renew, hand off, abandon) and is told their results.
///
/// The lease in PostgreSQL is the truth: a shard is served only between a successful `acquire` (which
/// yields the epoch that fences its writes) and the moment its lease could lapse. The machine stops
/// serving a shard `safetyMarginMillis` before its lease expires unless a renewal came back, so a node
/// cut off from the database stops on its own, and the store's epoch check refuses whatever it still
/// tries to write.
///
/// Handoff (design.md): the old owner stops taking commands, flushes, snapshots and releases the lease;
/// the new owner's `acquire` is refused while the lease is held and retried every `retryMillis` until
/// it is released or has expired (a dead owner's lease simply runs out).
public struct ShardOwnership: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// How long a lease lasts from its last renewal.
        public var leaseMillis: Int64
        /// A lease is renewed when less than this remains.
        public var renewBeforeMillis: Int64
        /// Serving stops when less than this remains and no renewal came back.
        public var safetyMarginMillis: Int64
        /// Wait between refused acquisitions of the same shard.
        public var retryMillis: Int64

        public init(
            leaseMillis: Int64 = 4_000, renewBeforeMillis: Int64 = 2_500, safetyMarginMillis: Int64 = 500,
            retryMillis: Int64 = 50
        ) {
            self.leaseMillis = leaseMillis
            self.renewBeforeMillis = renewBeforeMillis
            self.safetyMarginMillis = safetyMarginMillis
            self.retryMillis = retryMillis
        }
    }

    /// Where one shard stands on this node.
    public enum Phase: Sendable, Hashable {
        /// Waiting to (re)try taking the lease at `retryAt`.
        case waiting(retryAt: Int64)
        /// `acquire` is in flight.
        case acquiring
        /// Lease held; snapshot and journal tail being loaded.
        case recovering(epoch: Int64, expiresAt: Int64)
        /// Lease held and the shard takes commands.
        case serving(epoch: Int64, expiresAt: Int64)
        /// Stopping, flushing, snapshotting and releasing.
        case handingOff(epoch: Int64)
    }

    public enum Action: Sendable, Hashable {
        /// Take the lease of the shard (the store bumps the epoch when the owner changes), then report
        /// `acquired` or `acquireRefused`.
        case acquire(shard: String)
        /// Load the shard (latest snapshot + journal tail) writing with `epoch`, then report `recovered` or
        /// `recoveryFailed` with that epoch (nothing when the load was superseded by a later one).
        case recover(shard: String, epoch: Int64)
        /// Extend these leases (one round trip), then report `renewed` or `renewRefused` per shard.
        case renew([ShardEpoch])
        /// Stop taking commands, flush, snapshot, release the lease, then report `handedOff`.
        case handOff(shard: String, epoch: Int64)
        /// The lease is lost or may have lapsed: stop taking commands now and drop the shard's state; its
        /// writes would be refused.
        case abandon(shard: String, epoch: Int64)
    }

    public struct ShardEpoch: Sendable, Hashable {
        public var shard: String
        public var epoch: Int64

        public init(shard: String, epoch: Int64) {
            self.shard = shard
            self.epoch = epoch
        }
    }

    public let nodeID: String
    public let configuration: Configuration
    /// Shards the latest assignment gives this node.
    public private(set) var wanted: Set<String> = []
    /// Shards this node is doing anything about.
    public private(set) var phases: [String: Phase] = [:]
    /// Renewals in flight (one round trip at a time).
    private var renewing: Set<String> = []

    public init(nodeID: String, configuration: Configuration = Configuration()) {
        self.nodeID = nodeID
        self.configuration = configuration
    }

    /// The epoch a serving shard writes with; nil when this node must not take its commands.
    public func servingEpoch(of shard: String) -> Int64? {
        guard case .serving(let epoch, _) = phases[shard] else { return nil }
        return epoch
    }

    /// Shards that take commands here.
    public var servingShards: [String] {
        phases.compactMap { shard, phase in
            if case .serving = phase { shard } else { nil }
        }.sorted()
    }

    /// Adopts a new assignment: takes the shards it gives this node, hands off those it takes away.
    public mutating func assign(_ assignment: ShardAssignment, nowMillis: Int64) -> [Action] {
        wanted = Set(assignment.shards(ownedBy: nodeID))
        return drain(nowMillis: nowMillis, wanted: wanted)
    }

    /// Gives every shard up (drain before stopping): as if the assignment gave this node nothing.
    public mutating func releaseAll(nowMillis: Int64) -> [Action] {
        wanted = []
        return drain(nowMillis: nowMillis, wanted: [])
    }

    private mutating func drain(nowMillis: Int64, wanted: Set<String>) -> [Action] {
        var actions: [Action] = []
        for shard in wanted where phases[shard] == nil {
            phases[shard] = .acquiring
            actions.append(.acquire(shard: shard))
        }
        for (shard, phase) in phases where !wanted.contains(shard) {
            switch phase {
            case .waiting:
                phases[shard] = nil
            case .serving(let epoch, _):
                phases[shard] = .handingOff(epoch: epoch)
                actions.append(.handOff(shard: shard, epoch: epoch))
            case .acquiring, .recovering, .handingOff:
                break  // decided when their result comes back
            }
        }
        return actions.sorted(by: Self.order)
    }

    /// Time passed: retries due acquisitions, renews leases running low, abandons leases that may lapse.
    public mutating func tick(nowMillis: Int64) -> [Action] {
        var actions: [Action] = []
        var renewals: [ShardEpoch] = []
        for (shard, phase) in phases {
            switch phase {
            case .waiting(let retryAt) where retryAt <= nowMillis:
                phases[shard] = .acquiring
                actions.append(.acquire(shard: shard))
            case .serving(let epoch, let expiresAt), .recovering(let epoch, let expiresAt):
                if expiresAt - nowMillis < configuration.safetyMarginMillis {
                    phases[shard] = nil
                    renewing.remove(shard)
                    actions.append(.abandon(shard: shard, epoch: epoch))
                    if wanted.contains(shard) { phases[shard] = .waiting(retryAt: nowMillis) }
                } else if expiresAt - nowMillis < configuration.renewBeforeMillis, !renewing.contains(shard) {
                    renewing.insert(shard)
                    renewals.append(ShardEpoch(shard: shard, epoch: epoch))
                }
            default:
                break
            }
        }
        if !renewals.isEmpty { actions.append(.renew(renewals.sorted { $0.shard < $1.shard })) }
        return actions.sorted(by: Self.order)
    }

    /// The lease was taken with `epoch`.
    public mutating func acquired(shard: String, epoch: Int64, expiresAt: Int64) -> [Action] {
        guard phases[shard] == .acquiring else { return [] }
        phases[shard] = .recovering(epoch: epoch, expiresAt: expiresAt)
        return [.recover(shard: shard, epoch: epoch)]
    }

    /// Another node holds the lease (it is handing off, or it is dead and its lease has not run out), or
    /// the store could not be reached: try again later if the shard is still wanted.
    public mutating func acquireRefused(shard: String, nowMillis: Int64) -> [Action] {
        guard phases[shard] == .acquiring else { return [] }
        phases[shard] = wanted.contains(shard) ? .waiting(retryAt: nowMillis + configuration.retryMillis) : nil
        return []
    }

    /// The shard is loaded at `epoch` and may take commands — unless the assignment moved it away meanwhile. A
    /// load of an earlier lease (abandoned while it waited on the store, and taken again since) changes nothing.
    public mutating func recovered(shard: String, epoch loaded: Int64) -> [Action] {
        guard case .recovering(let epoch, let expiresAt) = phases[shard], epoch == loaded else { return [] }
        guard wanted.contains(shard) else {
            phases[shard] = .handingOff(epoch: epoch)
            return [.handOff(shard: shard, epoch: epoch)]
        }
        phases[shard] = .serving(epoch: epoch, expiresAt: expiresAt)
        return []
    }

    /// Loading at `epoch` failed: give the lease up and try again later. The failure of an earlier lease's load
    /// changes nothing.
    public mutating func recoveryFailed(shard: String, epoch failed: Int64) -> [Action] {
        guard case .recovering(let epoch, _) = phases[shard], epoch == failed else { return [] }
        phases[shard] = .handingOff(epoch: epoch)
        return [.handOff(shard: shard, epoch: epoch)]
    }

    /// A renewal came back: the lease now lasts until `expiresAt`.
    public mutating func renewed(shard: String, epoch: Int64, expiresAt: Int64) {
        renewing.remove(shard)
        switch phases[shard] {
        case .serving(epoch, let old):
            phases[shard] = .serving(epoch: epoch, expiresAt: max(old, expiresAt))
        case .recovering(epoch, let old):
            phases[shard] = .recovering(epoch: epoch, expiresAt: max(old, expiresAt))
        default:
            break
        }
    }

    /// A renewal could not be made (store unreachable): the lease keeps its expiry; `tick` abandons it in
    /// time if no later renewal succeeds.
    public mutating func renewFailed(shard: String) {
        renewing.remove(shard)
    }

    /// The lease is no longer this node's at that epoch (someone took it): stop at once.
    public mutating func renewRefused(shard: String, epoch: Int64, nowMillis: Int64) -> [Action] {
        renewing.remove(shard)
        switch phases[shard] {
        case .serving(epoch, _), .recovering(epoch, _):
            phases[shard] = wanted.contains(shard) ? .waiting(retryAt: nowMillis + configuration.retryMillis) : nil
            return [.abandon(shard: shard, epoch: epoch)]
        default:
            return []
        }
    }

    /// The shard's journal failed at `epoch`: its state here is ahead of what the store holds and it refuses
    /// commands. It is handed off (nothing is saved: its journal refuses) and taken again, at a new epoch, to be
    /// reloaded from the store.
    public mutating func journalFailed(shard: String, epoch: Int64) -> [Action] {
        guard case .serving(epoch, _) = phases[shard] else { return [] }
        phases[shard] = .handingOff(epoch: epoch)
        return [.handOff(shard: shard, epoch: epoch)]
    }

    /// The handoff finished (or failed: the lease then runs out by itself). Takes the shard again if the
    /// assignment gave it back meanwhile.
    public mutating func handedOff(shard: String) -> [Action] {
        guard case .handingOff = phases[shard] else { return [] }
        renewing.remove(shard)
        guard wanted.contains(shard) else {
            phases[shard] = nil
            return []
        }
        phases[shard] = .acquiring
        return [.acquire(shard: shard)]
    }

    /// Deterministic action order (dictionary order is not): hand-offs first, so a node gives up before it
    /// takes; then by shard.
    private static func order(_ left: Action, _ right: Action) -> Bool {
        (left.rank, left.shardKey) < (right.rank, right.shardKey)
    }
}

extension ShardOwnership.Action {
    fileprivate var rank: Int {
        switch self {
        case .abandon: 0
        case .handOff: 1
        case .renew: 2
        case .acquire: 3
        case .recover: 4
        }
    }

    fileprivate var shardKey: String {
        switch self {
        case .acquire(let shard), .recover(let shard, _), .handOff(let shard, _), .abandon(let shard, _): shard
        case .renew(let shards): shards.first?.shard ?? ""
        }
    }
}
