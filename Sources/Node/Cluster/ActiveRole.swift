import API
import Actors
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle
import Storage
import Synchronization
import Transport

/// Active/standby, the cluster's first step: the node holding the `cluster/active` lease takes every shard's
/// lease and serves the exchange; every other node (a standby) forwards exchange requests to it over the
/// transport, and takes over when its lease lapses.
///
/// - **Fencing.** The active renews `cluster/active` and every shard lease together, in one statement, every
///   `renewInterval` (500 ms; leases last 3 s). Leases are taken by `<node id>#<incarnation>`, so a restarted
///   node gets a new epoch too. A standby takes `cluster/active` only once it has lapsed, then every shard at epoch + 1: from then on the
///   store refuses the old active's journal writes, however late they come. The new active replays the
///   journals after taking the leases, so whatever the old one committed before is recovered.
/// - **Fail-stop.** An active that finds a lease taken, or cannot renew for `ttl − safetyMargin`, throws: the
///   node's service group stops and the process exits (Kubernetes restarts it as a standby).
/// - **Reads fenced by time.** The store refuses a deposed node's writes, not its reads: so the active admits
///   a client request only while its own clock says its leases hold (last renewal asked + ttl − safetyMargin).
///   A node frozen past its lease and thawed answers nothing from memory before its next renewal fails.
/// - **Handoff.** On SIGTERM or a drain the active stops admitting client requests and waits for those it
///   admitted (`LocalRequestGate`), stops the exchange (journals durable, long tails snapshotted), releases every
///   lease at once, and a standby takes over within a poll interval (20 ms: one single-row read per standby,
///   which a handoff's outage includes, so it is kept short). A drained node stays a standby that never takes
///   over again, until it is restarted; it keeps forwarding to the new active node.
/// - **Waiting instead of failing.** While no node serves (a handoff, a takeover's recovery, a failover),
///   client requests wait up to `serviceWait` (3 s) for one that does (`ForwardingMiddleware`), and `/readyz`
///   stays 200 on a node that had an active node within that time; once `beginShutdown()` is called it
///   answers 503.
final class ActiveRole: Service, RequestForwarder {
    enum Role: Sendable, Equatable {
        /// Forwarding to `active` (nil: nobody holds the lease right now).
        case standby(active: String?)
        case active
        /// Handed off (or told to drain): forwards, never takes over.
        case drained(active: String?)

        var activeNode: String? {
            switch self {
            case .standby(let active), .drained(let active): active
            case .active: nil
            }
        }
    }

    struct LeaseLost: Error, CustomStringConvertible {
        var description: String
    }

    struct ForwardingFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// The lease whose holder is the active node.
    static let activeLease = "cluster/active"

    let exchange: Exchange
    let store: any JournalStore
    let nodeID: String
    /// The owner written on leases: `<node id>#<incarnation>`.
    let leaseOwner: String
    /// A node's peer address (`host:port`) as the membership table says.
    let peerAddress: @Sendable (String) -> String?
    /// A node's client API address (`host:port`), where relayed event streams are opened.
    let apiAddress: @Sendable (String) -> String?
    let peers: PeerClients
    let ttlMillis: Int64
    let renewInterval: Duration
    let pollInterval: Duration
    let safetyMargin: Duration
    let forwardTimeout: Duration
    /// How long a forwarded request waits before its target is pinged, and how long each ping may take (see
    /// `PeerLiveness.watch`).
    let forwardPatience: Duration
    let clock: @Sendable () -> Int64
    let logger: Logger
    /// How long a client request waits for a node to serve the exchange before it answers 503.
    let serviceWait: Duration
    private let state = Mutex(Role.standby(active: nil))
    /// The node requests were last forwarded to, and its peer address then (see `abandonForwards(to:)`).
    private let forwardedTo = Mutex<(node: String, address: String)?>(nil)
    private let drainRequested = Atomic<Bool>(false)
    private let handingOff = Atomic<Bool>(false)
    private let shuttingDown = Atomic<Bool>(false)
    /// When (`clock`, ms) this node last knew a node that serves the exchange (itself or the one it follows).
    private let servedAtMillis = Atomic<Int64>(0)
    /// Until when (`clock`, ms) this node's leases are certainly still its own, while it is the active node:
    /// the time the last successful renewal (or the takeover) was asked at, + `ttlMillis` − `safetyMargin`.
    /// Reads are not fenced by the store as writes are, so past this instant the node admits no request: a node
    /// thawed after a freeze longer than its lease would otherwise answer from a state that a new active node
    /// has moved on from (an order it acknowledged meanwhile answered 404), until its next renewal fails.
    private let leasesVouchedUntil = Atomic<Int64>(0)
    /// The client requests this node runs while it is the active node.
    private let localRequests = LocalRequestGate()

    init(
        exchange: Exchange, store: any JournalStore, nodeID: String, incarnation: Int64,
        peerAddress: @escaping @Sendable (String) -> String?,
        apiAddress: @escaping @Sendable (String) -> String? = { _ in nil }, peers: PeerClients,
        ttlMillis: Int64 = 3_000,
        renewInterval: Duration = .milliseconds(500), pollInterval: Duration = .milliseconds(20),
        safetyMargin: Duration = .milliseconds(500), forwardTimeout: Duration = .seconds(15),
        forwardPatience: Duration = .seconds(1), serviceWait: Duration = .seconds(3),
        clock: @escaping @Sendable () -> Int64 = Exchange.wallClockMillis,
        logger: Logger
    ) {
        self.exchange = exchange
        self.store = store
        self.nodeID = nodeID
        self.leaseOwner = Self.leaseOwner(nodeID: nodeID, incarnation: incarnation)
        self.peerAddress = peerAddress
        self.apiAddress = apiAddress
        self.peers = peers
        self.ttlMillis = ttlMillis
        self.renewInterval = renewInterval
        self.pollInterval = pollInterval
        self.safetyMargin = safetyMargin
        self.forwardTimeout = forwardTimeout
        self.forwardPatience = forwardPatience
        self.serviceWait = serviceWait
        self.clock = clock
        self.logger = logger
    }

    static func leaseOwner(nodeID: String, incarnation: Int64) -> String { "\(nodeID)#\(incarnation)" }

    /// The node id of a lease owner written by `leaseOwner(nodeID:incarnation:)`.
    static func nodeID(ofOwner owner: String) -> String {
        owner.lastIndex(of: "#").map { String(owner[..<$0]) } ?? owner
    }

    var role: Role { state.withLock { $0 } }

    // MARK: RequestForwarder

    var mode: ForwardingMode {
        let role = self.role
        if role == .active {
            return localRequests.isOpen ? .local : .unavailable("the active node is handing off")
        }
        guard let active = role.activeNode else {
            return .unavailable("no node serves the exchange right now (a failover is under way)")
        }
        guard peerAddress(active) != nil else { return .unavailable("the active node \(active) is not reachable yet") }
        return .forward
    }

    var isReady: Bool? {
        if shuttingDown.load(ordering: .relaxed) { return false }
        switch mode {
        case .forward: return true
        case .local: return nil
        case .unavailable:
            // A handoff or a takeover under way: requests sent here wait for the next active node.
            let since = clock() - servedAtMillis.load(ordering: .relaxed)
            return since >= 0 && since < Self.milliseconds(serviceWait) ? true : nil
        }
    }

    func admitLocal() async -> Bool {
        guard role == .active, localRequests.isOpen, leasesVouched, await exchange.isReady() else { return false }
        return localRequests.enter()
    }

    /// Whether this node's clock says its leases have not lapsed yet (see `leasesVouchedUntil`).
    var leasesVouched: Bool { clock() < leasesVouchedUntil.load(ordering: .acquiring) }

    /// Records a lease taken or renewed with `nowMillis`: from the store's point of view it lasts until
    /// `nowMillis + ttlMillis`; this node counts on it `safetyMargin` less (other nodes' clocks).
    private func vouch(askedAt nowMillis: Int64) {
        leasesVouchedUntil.store(nowMillis + ttlMillis - Self.milliseconds(safetyMargin), ordering: .releasing)
    }

    /// `duration` in whole milliseconds (the unit of `clock` and of the leases).
    private static func milliseconds(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return parts.seconds * 1_000 + parts.attoseconds / 1_000_000_000_000_000
    }

    func finishLocal() { localRequests.leave() }

    /// Makes `/readyz` answer 503 from now on (the node is shutting down); requests are still served.
    func beginShutdown() {
        shuttingDown.store(true, ordering: .sequentiallyConsistent)
    }

    func forward(_ request: ForwardedRequest) async throws -> ForwardedResponse {
        guard let active = role.activeNode, let address = peerAddress(active), let client = peers.client(for: address)
        else { throw RequestNotForwarded("no active node to forward to") }
        forwardedTo.withLock { last in
            if last?.node != active || last?.address != address { last = (node: active, address: address) }
        }
        let payload = request.encoded()
        let timeout = forwardTimeout
        // The request waits for its answer, or for a sign that none will come, whichever is first.
        let reply = try await PeerLiveness.forward(
            payload, to: "the active node \(active)", client: client, timeout: timeout, patience: forwardPatience)
        return try ForwardedResponse(decoding: reply.payload)
    }

    func forwardStream(_ request: ForwardedRequest) async throws -> ForwardedStream {
        guard let active = role.activeNode, let address = apiAddress(active) else {
            throw ForwardingFailed(description: "no active node to relay the stream from")
        }
        return try await StreamProxy.open(request, at: address)
    }

    // MARK: Running

    func run() async throws {
        // Here, not in `init`: the node bootstraps the metrics backend after it builds this role.
        NodeMetrics.registerClusterSeries()
        while let lease = await follow() {
            try await lead(lease)
            guard !Task.isShuttingDownGracefully else { return }
        }
    }

    /// Drains this node: an active hands every shard off (returns once it has); a standby will never take
    /// over.
    func drain(timeout: Duration = .seconds(60)) async throws {
        drainRequested.store(true, ordering: .sequentiallyConsistent)
        let deadline = ContinuousClock.now + timeout
        while true {
            let role = self.role
            switch role {
            case .drained: return
            case .standby(let active):
                let changed = state.withLock { state in
                    guard state == role else { return false }
                    state = .drained(active: active)
                    return true
                }
                if changed {
                    logger.info("drained: this standby will not take over")
                    return
                }
            case .active:
                guard ContinuousClock.now < deadline else {
                    throw LeaseLost(description: "the handoff did not finish in time")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// As a standby: follows who holds `cluster/active` (for forwarding) and takes it once it has lapsed.
    /// Returns the lease taken, or nil when the node shuts down.
    private func follow() async -> ShardLease? {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let current = try await store.lease(shard: Self.activeLease)
                if let current, current.owner != leaseOwner, current.expiresAtMillis > clock() {
                    let active = Self.nodeID(ofOwner: current.owner)
                    setFollowing(active)
                    if peerAddress(active) != nil { servedAtMillis.store(clock(), ordering: .relaxed) }
                } else if drainRequested.load(ordering: .sequentiallyConsistent) {
                    setFollowing(nil)
                } else {
                    let askedAt = clock()
                    let lease = try await store.acquireLease(
                        shard: Self.activeLease, owner: leaseOwner, ttlMillis: ttlMillis, nowMillis: askedAt)
                    vouch(askedAt: askedAt)
                    return lease
                }
            } catch let error as StorageError where error.code == .leaseHeld {
                // Another standby won the race; the next read names it.
            } catch {
                logger.warning("reading the active lease failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: pollInterval)
        }
        return nil
    }

    private func setFollowing(_ active: String?) {
        let previous = state.withLock { state -> String? in
            switch state {
            case .standby(let previous) where previous != active:
                state = .standby(active: active)
                return previous
            case .drained(let previous) where previous != active:
                state = .drained(active: active)
                return previous
            default:
                return nil
            }
        }
        if let previous { abandonForwards(to: previous) }
    }

    /// Requests forwarded to `node`, which no longer holds the active lease, that are still unanswered will get
    /// no answer worth waiting for: a node that hands off answers what it admitted before it releases the
    /// lease, and one that lost it commits nothing. So they fail now (503, the client retries, on the node
    /// that serves next) rather than hang until the forward's watch gives up on a node that has exited.
    /// Admin requests are left to wait: a drain's answer comes once the handoff it started is over.
    private func abandonForwards(to node: String) {
        guard let address = forwardedTo.withLock({ $0?.node == node ? $0?.address : nil }),
            let client = peers.existingClient(for: address)
        else { return }
        client.failPendingCalls(reason: "\(node) no longer serves the exchange") { message in
            guard message.kind == PeerKind.forward, let request = try? ForwardedRequest(decoding: message.payload)
            else { return false }
            return !Self.isAdmin(target: request.target)
        }
    }

    /// Whether a request target's path is under `/admin/` (empty path components skipped, as the router does).
    static func isAdmin(target: String) -> Bool {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return path.split(separator: "/").first == "admin"
    }

    /// As the active: takes every shard, serves until SIGTERM or a drain, then hands off. Throws when a lease
    /// is lost (the node must stop).
    private func lead(_ lease: ShardLease) async throws {
        let (drained, previous) = state.withLock { state -> (Bool, String?) in
            if case .drained = state { return (true, nil) }
            let previous = state.activeNode
            state = .active
            return (false, previous)
        }
        if let previous { abandonForwards(to: previous) }
        guard !drained else {
            // Drained between taking the lease and now: give it back at once.
            try? await store.releaseLease(shard: Self.activeLease, owner: leaseOwner, epoch: lease.epoch)
            return
        }
        handingOff.store(false, ordering: .sequentiallyConsistent)
        NodeMetrics.takeovers.increment()
        localRequests.open()
        defer { localRequests.close() }
        logger.info("this node is the active node: taking every shard", metadata: ["epoch": "\(lease.epoch)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Renewals on an event loop (as membership): a busy pool must not let the leases lapse.
            group.addTask(executorPreference: EventLoopTaskExecutor(MultiThreadedEventLoopGroup.singleton.next())) {
                try await self.keepLeases(active: lease)
            }
            group.addTask {
                try await self.exchange.start()
                while !Task.isShuttingDownGracefully, !self.drainRequested.load(ordering: .sequentiallyConsistent) {
                    self.servedAtMillis.store(self.clock(), ordering: .relaxed)
                    try await Task.sleep(for: self.pollInterval)
                }
                // No request is inside the exchange when it stops: those admitted finish here (leases still
                // renewed meanwhile), later ones wait for the next active node.
                let unfinished = await self.localRequests.closeAndWait(upTo: Self.requestDrainTimeout)
                if unfinished > 0 {
                    self.logger.warning("handing off with requests in flight", metadata: ["requests": "\(unfinished)"])
                }
                self.handingOff.store(true, ordering: .sequentiallyConsistent)
                self.logger.info("handing every shard off")
                await self.exchange.stop(releasingLeases: true)
                try? await self.store.releaseLease(shard: Self.activeLease, owner: self.leaseOwner, epoch: lease.epoch)
            }
            // The first to finish: the handoff (then stop renewing), or a lost lease (thrown: the node stops).
            try await group.next()
            group.cancelAll()
        }
        state.withLock { $0 = .drained(active: nil) }
        NodeMetrics.shardsOwned.record(0)
        NodeMetrics.handoffs.increment()
        logger.info("handed off: this node owns no shard")
    }

    /// Renews `cluster/active` and every shard lease together until the handoff has released them; throws when
    /// one was taken or renewals have failed for too long.
    ///
    /// During a handoff it goes on renewing what the node still holds, so that leases never lapse while the
    /// shards are being snapshotted (which can take seconds on a busy machine with big shards): the next
    /// active node then takes the shards when they are released, not when they lapse, and this node is never
    /// taken for dead half-way. A lease missing from a renewal then is one the handoff has just released; from
    /// there it waits to be cancelled, as returning would end `lead`'s task group and cancel the handoff.
    private func keepLeases(active lease: ShardLease) async throws {
        var renewedAt = ContinuousClock.now
        let lapse = Duration.milliseconds(ttlMillis) - safetyMargin
        var handOffSince: ContinuousClock.Instant?
        while true {
            try await Task.sleep(for: renewInterval)
            if handingOff.load(ordering: .sequentiallyConsistent) {
                let since = handOffSince ?? ContinuousClock.now
                handOffSince = since
                // A handoff that hangs (a store that stopped answering mid-way) must not keep the cluster
                // without an active node: past this, the leases lapse and a standby takes over.
                if ContinuousClock.now - since > Self.handOffRenewalLimit {
                    logger.warning("the handoff is taking too long: letting the leases lapse")
                    try await Self.untilCancelled()
                }
            }
            let started = ContinuousClock.now
            let askedAt = clock()
            let leases = [(shard: lease.shard, epoch: lease.epoch)] + exchange.heldLeases
            do {
                let renewed = try await store.renewLeases(
                    owner: leaseOwner, leases, ttlMillis: ttlMillis, nowMillis: askedAt)
                // A shard lease whose epoch the exchange changed meanwhile (a shard reloaded after its journal
                // failed: `Exchange+Repair`) is not lost.
                let lost = leases.enumerated().filter { index, lease in
                    !renewed.contains(lease.shard) && (index == 0 || exchange.heldEpoch(of: lease.shard) == lease.epoch)
                }.map(\.element.shard)
                if !lost.isEmpty, handingOff.load(ordering: .sequentiallyConsistent) {
                    try await Self.untilCancelled()
                }
                guard lost.isEmpty else {
                    logger.critical(
                        "a lease was taken by another node: stopping", metadata: ["shards": "\(lost.prefix(5))"])
                    throw LeaseLost(description: "leases taken by another node: \(lost.prefix(5))")
                }
                renewedAt = started
                vouch(askedAt: askedAt)
                NodeMetrics.leaseRenewalsOK.increment()
                NodeMetrics.shardsOwned.record(leases.count)
            } catch let error as LeaseLost {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                NodeMetrics.leaseRenewalsFailed.increment()
                guard ContinuousClock.now - renewedAt < lapse else {
                    logger.critical("lease renewals failed for too long: stopping", metadata: ["error": "\(error)"])
                    throw LeaseLost(description: "lease renewals failed for \(ContinuousClock.now - renewedAt)")
                }
                logger.warning("lease renewal failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// How long a handoff waits for the client requests this node admitted before it stops the exchange.
    static let requestDrainTimeout = Duration.seconds(5)

    /// How long a handoff keeps its leases renewed while it snapshots the shards.
    static let handOffRenewalLimit = Duration.seconds(15)

    /// Suspends until the task is cancelled (then throws `CancellationError`).
    private static func untilCancelled() async throws {
        while true { try await Task.sleep(for: .seconds(3_600)) }
    }
}
