import Actors
import Cluster
import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Routing by shard: runs `ShardOwnership` for this node — takes the leases of the shards the membership's
/// assignment gives it, loads them into the exchange, renews the leases, hands off the shards the assignment
/// takes away, and drops at once a shard whose lease is lost or may have lapsed.
///
/// Every `tickInterval` (20 ms) it adopts the latest assignment (when its version changed) and ticks the
/// machine; the actions run as child tasks, so that a long recovery never holds a renewal back, and their
/// results go back to the machine, whose next actions run in turn. Acquisitions of one step go to the store in
/// one round trip, as do renewals. A dropped shard is dropped before the loop goes on, so that it cannot be
/// taken again before it is gone.
///
/// The exchange runs with `Configuration.servedShards` empty: it starts serving nothing and the runner tells it
/// what to serve (`Exchange+Ownership`). `handOffAll()` (a node leaving) gives every shard up and ignores the
/// assignment from then on.
final class ShardOwnershipRunner: Service {
    let exchange: Exchange
    let store: any JournalStore
    /// Who the leases are taken by: `<node id>#<incarnation>`.
    let leaseOwner: String
    /// The latest assignment this node knows (its membership view's).
    let assignment: @Sendable () -> ShardAssignment?
    let tickInterval: Duration
    let clock: @Sendable () -> Int64
    let logger: Logger
    private let machine: Mutex<ShardOwnership>
    private let leaving = Atomic<Bool>(false)
    /// Actions waiting to run, queued by action results (which run outside the loop).
    private let queued = Mutex<[ShardOwnership.Action]>([])
    /// Handed-off leases waiting for their release, and whether a release round trip is under way.
    private let releases = Mutex<(pending: [ShardOwnership.ShardEpoch], flushing: Bool)>(([], false))
    /// The epoch at which a shard's journal failed here, or its lease was abandoned or handed off: it is taken
    /// again only at a later one. That fences whatever the retired actor still had on its way to the store, and
    /// the store's group commit keeps refusing records that depend on a retired epoch's: an account shard taken
    /// back at the epoch it was dropped at (its lease still unexpired) broke every book its orders went to, over and
    /// over (chaos `dbstop`, finding M).
    private let failedEpochs = Mutex<[String: Int64]>([:])

    init(
        exchange: Exchange, store: any JournalStore, nodeID: String, leaseOwner: String,
        configuration: ShardOwnership.Configuration = .init(),
        assignment: @escaping @Sendable () -> ShardAssignment?, tickInterval: Duration = .milliseconds(20),
        clock: @escaping @Sendable () -> Int64 = Exchange.wallClockMillis, logger: Logger
    ) {
        self.exchange = exchange
        self.store = store
        self.leaseOwner = leaseOwner
        self.assignment = assignment
        self.tickInterval = tickInterval
        self.clock = clock
        self.logger = logger
        machine = Mutex(ShardOwnership(nodeID: nodeID, configuration: configuration))
    }

    /// The shards that take commands here.
    var servingShards: [String] { machine.withLock { $0.servingShards } }

    /// Whether this node is doing anything about any shard (taking, serving, handing off).
    var holdsShards: Bool { machine.withLock { !$0.phases.isEmpty } }

    func run() async throws {
        try await exchange.start()
        await withDiscardingTaskGroup { group in
            var version: UInt64?
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let now = clock()
                var actions = queued.withLock { queued in
                    defer { queued.removeAll() }
                    return queued
                }
                if !leaving.load(ordering: .acquiring), let latest = assignment(), latest.version != version,
                    await knowsMarkets(of: latest)
                {
                    version = latest.version
                    actions += machine.withLock { $0.assign(latest, nowMillis: now) }
                }
                let failures = exchange.journalFailures.take()
                if !failures.isEmpty {
                    failedEpochs.withLock { $0.merge(failures) { max($0, $1) } }
                    actions += machine.withLock { machine in
                        failures.flatMap { machine.journalFailed(shard: $0.key, epoch: $0.value) }
                    }
                }
                actions += machine.withLock { $0.tick(nowMillis: now) }
                NodeMetrics.shardsOwned.record(exchange.servedShardCount)
                await perform(actions, in: &group)
                try? await Task.sleep(for: tickInterval)
            }
            group.cancelAll()
        }
        await exchange.stop()
    }

    /// Whether the exchange knows every market of `assignment`, loading those added on another node since
    /// (from the store; false when that fails: the assignment is adopted at a later tick).
    private func knowsMarkets(of assignment: ShardAssignment) async -> Bool {
        guard assignment.shards.contains(where: { !exchange.isKnownShard($0) }) else { return true }
        do {
            try await exchange.loadAddedMarkets()
            return true
        } catch {
            logger.warning("loading the markets added elsewhere failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Gives every shard up (the node is leaving) and returns once they are handed off, or after `timeout`
    /// (what is left lapses by itself). The assignment is not followed any more.
    func handOffAll(timeout: Duration = .seconds(20)) async {
        leaving.store(true, ordering: .releasing)
        enqueue(machine.withLock { $0.releaseAll(nowMillis: clock()) })
        let deadline = ContinuousClock.now + timeout
        while holdsShards, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func enqueue(_ actions: [ShardOwnership.Action]) {
        guard !actions.isEmpty else { return }
        queued.withLock { $0 += actions }
    }

    /// Runs one step's actions. Those of a kind go together: acquisitions and renewals in one round trip each,
    /// recoveries and handoffs a few at a time in one task (a node joining or leaving moves hundreds of shards
    /// at once, which would otherwise queue more statements than the store's pool takes), their leases
    /// released in one round trip.
    private func perform(_ actions: [ShardOwnership.Action], in group: inout DiscardingTaskGroup) async {
        var acquisitions: [String] = []
        var recoveries: [ShardOwnership.ShardEpoch] = []
        var handOffs: [ShardOwnership.ShardEpoch] = []
        for action in actions {
            switch action {
            case .acquire(let shard):
                acquisitions.append(shard)
            case .abandon(let shard, let epoch):
                retire(shard, at: epoch)
                await exchange.dropShard(shard)
            case .recover(let shard, let epoch):
                recoveries.append(.init(shard: shard, epoch: epoch))
            case .renew(let leases):
                group.addTask { await self.renew(leases) }
            case .handOff(let shard, let epoch):
                retire(shard, at: epoch)
                handOffs.append(.init(shard: shard, epoch: epoch))
            }
        }
        if !handOffs.isEmpty { group.addTask { await self.handOff(handOffs) } }
        if !acquisitions.isEmpty { group.addTask { await self.acquire(acquisitions) } }
        if !recoveries.isEmpty {
            group.addTask {
                try? await Exchange.concurrently(Self.symbolsFirst(recoveries), width: Self.width) {
                    await self.recover($0.shard, epoch: $0.epoch)
                }
            }
        }
    }

    /// Remembers that `shard`'s actor at `epoch` is retired here: the shard is taken again at a later epoch.
    private func retire(_ shard: String, at epoch: Int64) {
        failedEpochs.withLock { $0[shard] = max($0[shard] ?? epoch, epoch) }
    }

    /// Shards loaded, or handed off, at the same time.
    static let width = 8

    private func acquire(_ shards: [String]) async {
        let now = clock()
        let ttl = machine.withLock { $0.configuration.leaseMillis }
        var taken: [ShardLease] = []
        do {
            taken = try await store.acquireLeases(shards: shards, owner: leaseOwner, ttlMillis: ttl, nowMillis: now)
        } catch {
            logger.warning("taking shard leases failed", metadata: ["shards": "\(shards.count)", "error": "\(error)"])
        }
        let stale = failedEpochs.withLock { failed in
            taken.filter { lease in
                guard let epoch = failed[lease.shard] else { return false }
                if lease.epoch > epoch { failed[lease.shard] = nil }
                return lease.epoch <= epoch
            }
        }
        if !stale.isEmpty {
            // Given up again (expired), so that the next try takes it at a new epoch.
            try? await store.releaseLeases(owner: leaseOwner, stale.map { (shard: $0.shard, epoch: $0.epoch) })
            taken.removeAll { lease in stale.contains { $0.shard == lease.shard } }
        }
        let refusedAt = clock()
        let takenShards = Set(taken.map(\.shard))
        enqueue(
            machine.withLock { machine in
                taken.flatMap { machine.acquired(shard: $0.shard, epoch: $0.epoch, expiresAt: now + ttl) }
                    + shards.filter { !takenShards.contains($0) }.flatMap {
                        machine.acquireRefused(shard: $0, nowMillis: refusedAt)
                    }
            })
    }

    private func recover(_ shard: String, epoch: Int64) async {
        do {
            // Superseded: the lease was abandoned while the shard loaded, and the machine has moved on.
            guard try await exchange.takeShard(shard, epoch: epoch) else { return }
            enqueue(machine.withLock { $0.recovered(shard: shard, epoch: epoch) })
        } catch {
            logger.error("loading a shard failed", metadata: ["shard": "\(shard)", "error": "\(error)"])
            enqueue(machine.withLock { $0.recoveryFailed(shard: shard, epoch: epoch) })
        }
    }

    private func renew(_ leases: [ShardOwnership.ShardEpoch]) async {
        let now = clock()
        let ttl = machine.withLock { $0.configuration.leaseMillis }
        do {
            let renewed = try await store.renewLeases(
                owner: leaseOwner, leases.map { (shard: $0.shard, epoch: $0.epoch) }, ttlMillis: ttl, nowMillis: now)
            NodeMetrics.leaseRenewalsOK.increment()
            let refusedAt = clock()
            enqueue(
                machine.withLock { machine in
                    leases.flatMap { lease -> [ShardOwnership.Action] in
                        guard renewed.contains(lease.shard) else {
                            return machine.renewRefused(shard: lease.shard, epoch: lease.epoch, nowMillis: refusedAt)
                        }
                        machine.renewed(shard: lease.shard, epoch: lease.epoch, expiresAt: now + ttl)
                        return []
                    }
                })
        } catch {
            NodeMetrics.leaseRenewalsFailed.increment()
            logger.warning(
                "renewing shard leases failed", metadata: ["shards": "\(leases.count)", "error": "\(error)"])
            machine.withLock { machine in for lease in leases { machine.renewFailed(shard: lease.shard) } }
        }
    }

    /// Each shard's lease is released as soon as it is handed off, so that its next owner takes it at once; the
    /// releases of handoffs that finish together share one round trip (a node leaving hands hundreds off, and
    /// one commit each kept the lease pool busy for seconds on a slow disk).
    private func handOff(_ leases: [ShardOwnership.ShardEpoch]) async {
        try? await Exchange.concurrently(Self.symbolsFirst(leases), width: Self.width) { lease in
            await self.exchange.handOffShard(lease.shard)
            await self.release(lease)
        }
    }

    /// Queues a handed-off shard's lease for release. The first caller while no release is under way sends the
    /// queue in one statement, and again for whatever queued meanwhile, until it is empty (group commit); the
    /// others return at once. Each shard is reported handed off once its release is answered (or failed: the
    /// lease then lapses by itself).
    private func release(_ lease: ShardOwnership.ShardEpoch) async {
        let flushes = releases.withLock { state -> Bool in
            state.pending.append(lease)
            guard !state.flushing else { return false }
            state.flushing = true
            return true
        }
        guard flushes else { return }
        while true {
            let batch = releases.withLock { state -> [ShardOwnership.ShardEpoch] in
                defer { state.pending.removeAll() }
                if state.pending.isEmpty { state.flushing = false }
                return state.pending
            }
            guard !batch.isEmpty else { return }
            do {
                try await store.releaseLeases(owner: leaseOwner, batch.map { (shard: $0.shard, epoch: $0.epoch) })
            } catch {
                logger.warning(
                    "releasing leases failed; they lapse by themselves",
                    metadata: ["shards": "\(batch.count)", "error": "\(error)"])
            }
            enqueue(machine.withLock { machine in batch.flatMap { machine.handedOff(shard: $0.shard) } })
        }
    }

    /// Markets before account shards: every order of a market waits for its one book, while an account shard
    /// holds a few users.
    static func symbolsFirst(_ leases: [ShardOwnership.ShardEpoch]) -> [ShardOwnership.ShardEpoch] {
        leases.filter { $0.shard.hasPrefix("symbol/") } + leases.filter { !$0.shard.hasPrefix("symbol/") }
    }
}
