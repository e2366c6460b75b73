import Cluster
import Logging
import Metrics
import NIOPosix
import ServiceLifecycle
import Storage
import Synchronization
import Trading
import Transport

/// Asks a peer whether it is alive (over the transport); true when it answered in time.
protocol PeerProber: Sendable {
    func probe(_ member: ClusterMember) async -> Bool
}

/// Runs this node's membership: reads the table, ticks `MembershipStateMachine`, performs its actions
/// (table changes, heartbeats, votes, probes), and publishes the view for routing and the admin API.
///
/// On graceful shutdown the node leaves: it takes itself out of the assignment, then marks itself gone,
/// bounded by `leaveTimeout`. A node the table says is dead or superseded stops: `run()` throws, which
/// stops the node's service group, since a zombie must not serve.
final class MembershipRunner: Service {
    struct Stopped: Error, CustomStringConvertible {
        var reason: MembershipStopReason
        var description: String { "this node is no longer a cluster member (\(reason.rawValue))" }
    }

    let store: any MembershipStore
    let prober: any PeerProber
    let clock: @Sendable () -> Int64
    let tickInterval: Duration
    let leaveTimeout: Duration
    let logger: Logger
    private let machine: Mutex<MembershipStateMachine>
    private let latest = Mutex(MembershipView.empty)
    private let probeResults = Mutex([String: ProbeResult]())
    /// 0: serving; 1: leave requested; 2: shards handed off, leave finished.
    private let leaving = Mutex(0)
    /// Set by `leaveWhileRunning()`: the running loop leaves instead of stepping.
    private let leaveRequested = Atomic<Bool>(false)
    /// Set by `beginShutdown()`: the node is on its way out, so being declared dead ends its membership
    /// quietly instead of failing the node.
    private let stopping = Atomic<Bool>(false)
    /// Set when this node changed the membership: the next step reads the new version at once instead of a
    /// tick later (a leaving node's own shards move as soon as its removal is written).
    private let changedHere = Atomic<Bool>(false)
    /// Called with every new version of the view (in order), from the runner's task.
    private let onChange: @Sendable (MembershipView) async -> Void
    /// Called once when an activity of the loop has not ended for `stuckLimit` (the node's process exits then).
    private let onStuck: (@Sendable () -> Void)?
    /// How often `watch()` looks, and how long one activity may last before `onStuck`.
    private let stuckAfter: Duration
    private let stuckLimit: Duration
    /// What the loop is waiting for, and since when (`watch()`).
    private let activity = Mutex<(what: String, since: ContinuousClock.Instant)?>(nil)

    init(
        machine: MembershipStateMachine, store: any MembershipStore, prober: any PeerProber,
        clock: @escaping @Sendable () -> Int64, tickInterval: Duration = .milliseconds(100),
        leaveTimeout: Duration = .seconds(5), logger: Logger,
        onChange: @escaping @Sendable (MembershipView) async -> Void = { _ in },
        onStuck: (@Sendable () -> Void)? = nil, stuckAfter: Duration = .seconds(5), stuckLimit: Duration = .seconds(30)
    ) {
        self.onStuck = onStuck
        self.stuckAfter = stuckAfter
        self.stuckLimit = stuckLimit
        self.machine = Mutex(machine)
        self.store = store
        self.prober = prober
        self.clock = clock
        self.tickInterval = tickInterval
        self.leaveTimeout = leaveTimeout
        self.logger = logger
        self.onChange = onChange
    }

    /// The membership as last read.
    var view: MembershipView { latest.withLock { $0 } }

    var nodeID: String { machine.withLock { $0.nodeID } }

    func run() async throws {
        // On an event loop, not the cooperative pool: heartbeats and probes keep their pace while the pool is
        // busy (a takeover replaying a thousand shards), so peers do not vote a busy node dead.
        try await withTaskExecutorPreference(EventLoopTaskExecutor(MultiThreadedEventLoopGroup.singleton.next())) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.watch() }
                try await self.runSteps()
                group.cancelAll()
            }
        }
    }

    /// Runs `body` as the loop's current activity, named for `watch()`.
    private func during<T>(_ what: String, _ body: () async throws -> T) async rethrows -> T {
        activity.withLock { $0 = (what, .now) }
        defer { activity.withLock { $0 = nil } }
        return try await body()
    }

    /// Logs, every `stuckAfter` (5 s), an activity of the loop that has not ended for that long: the node's
    /// heartbeats stop meanwhile, and its peers will declare it dead. Past `stuckLimit` (30 s, three times the
    /// 10 s after which a silent node is declared dead) it calls `onStuck`: a node
    /// that cannot read the membership cannot learn that it was declared dead, and would go on serving beside the
    /// shards' new owners (a statement in flight when PostgreSQL crashed once never returned, for 100 s).
    private func watch() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: stuckAfter)
            guard let (what, since) = activity.withLock({ $0 }), ContinuousClock.now - since >= stuckAfter
            else { continue }
            let stuck = ContinuousClock.now - since
            logger.warning("membership loop stuck", metadata: ["waiting_for": "\(what)", "for": "\(stuck)"])
            if stuck >= stuckLimit, let onStuck {
                logger.critical(
                    "membership loop stuck for too long: stopping", metadata: ["waiting_for": "\(what)"])
                onStuck()
                return
            }
        }
    }

    private func runSteps() async throws {
        var left = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if leaveRequested.load(ordering: .acquiring) {
                if !left, let reason = await leaveStep() {
                    left = true
                    logger.info("left the cluster", metadata: ["reason": "\(reason.rawValue)"])
                }
            } else if let reason = await step() {
                guard stopping.load(ordering: .acquiring) else { throw Stopped(reason: reason) }
                // Peers took a node that is shutting down for dead (a loaded machine missed its heartbeats): it
                // is out of the cluster either way, and its shutdown goes on.
                left = true
                logger.warning(
                    "declared out of the cluster while shutting down", metadata: ["reason": "\(reason.rawValue)"])
            }
            if changedHere.exchange(false, ordering: .acquiringAndReleasing) { continue }
            try? await Task.sleep(for: tickInterval)
        }
        guard !Task.isCancelled, !left else { return }
        await leave()
    }

    /// The node has begun its shutdown (SIGTERM): from now on, being declared dead or superseded does not fail it.
    func beginShutdown() { stopping.store(true, ordering: .releasing) }

    /// Leaves the cluster while the node keeps serving (a node routing by shard: its shards move to the others
    /// while its API still forwards to them): the running loop takes this node out of the assignment. Returns
    /// once the assignment gives this node no shard, or after `leaveTimeout`.
    func leaveWhileRunning() async {
        leaveRequested.store(true, ordering: .releasing)
        let deadline = ContinuousClock.now + leaveTimeout
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let view = self.view
            if view.member(nodeID)?.status != .active,
                view.assignment.map({ $0.shards(ownedBy: nodeID).isEmpty }) ?? true
            {
                return
            }
            try? await Task.sleep(for: tickInterval)
        }
        logger.warning("leaving the assignment timed out")
    }

    /// Leaves the cluster: out of the assignment, then marked gone; gives up after `leaveTimeout`.
    func leave() async {
        let deadline = ContinuousClock.now + leaveTimeout
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if let reason = await leaveStep() {
                logger.info("left the cluster", metadata: ["reason": "\(reason.rawValue)"])
                return
            }
            try? await Task.sleep(for: tickInterval)
        }
        logger.warning("leaving the cluster timed out; peers will declare this node dead")
    }

    /// One round of leaving: asks to leave, steps, and once this node is `leaving` and owns no shard,
    /// finishes. Returns the stop reason once the node is out.
    func leaveStep() async -> MembershipStopReason? {
        let first = leaving.withLock { leaving in
            defer { leaving = max(leaving, 1) }
            return leaving == 0
        }
        if first { machine.withLock { $0.requestLeave() } }
        if let reason = await step() { return reason }
        let view = self.view
        if let me = view.member(nodeID), me.status == .leaving,
            view.assignment.map({ $0.shards(ownedBy: nodeID).isEmpty }) ?? true,
            leaving.withLock({ leaving in
                defer { leaving = 2 }
                return leaving == 1
            })
        {
            machine.withLock { $0.finishLeave() }
        }
        return nil
    }

    /// Moves `shard` to `node` (an operator's `move`): writes the next membership version with the same members
    /// and that shard's owner changed; its old and new owners' ownership runners then hand it off and take it. A
    /// change that loses the race to another is made again on the newer version, a few times.
    ///
    /// - Throws: `.conflict` when `node` is not an active member of the assignment (joining, leaving, or not
    ///   assigned shards yet), `.unavailable` when the membership cannot be read or keeps changing.
    func move(_ shard: String, to node: String) async throws {
        try await changeAssignment("move \(shard) to \(node)") { view, assignment in
            if assignment.owner(of: shard) == node { return nil }
            guard view.member(node)?.status == .active,
                let moved = assignment.moving(shard, to: node, version: UInt64(clamping: view.version + 1))
            else { throw BourseError(.conflict, "node \(node) is not an active member: it takes no shards now") }
            return moved
        }
    }

    /// Adds `shard` (a market added at run time) to the assignment: the next membership version places it on
    /// the member with room that weighs it highest, moving nothing else. This node's later changes keep it.
    func addShard(_ shard: String) async throws {
        let shards = machine.withLock { machine in
            if !machine.shards.contains(shard) { machine.shards.append(shard) }
            return machine.shards
        }
        try await changeAssignment("add \(shard)") { view, assignment in
            if assignment.owner(of: shard) != nil { return nil }
            return view.change(upserting: [], shards: shards).assignment
        }
    }

    /// Writes the next membership version with the same members and the assignment `next` makes of the latest
    /// one (nil: nothing to change). A change that loses the race to another is made again on the newer
    /// version, a few times.
    private func changeAssignment(
        _ description: String,
        _ next: (MembershipView, ShardAssignment) throws -> ShardAssignment?
    ) async throws {
        for _ in 0..<5 {
            let view = try Self.view(of: try await store.membership(), previous: self.view)
            guard let assignment = view.assignment else {
                throw BourseError(.unavailable, "the cluster has no shard assignment yet")
            }
            guard let changed = try next(view, assignment) else { return }
            let applied = try await store.changeMembership(
                expectedVersion: view.version, members: [], assignment: changed.encoded())
            if applied {
                changedHere.store(true, ordering: .releasing)
                logger.info(
                    "membership changed", metadata: ["version": "\(view.version + 1)", "change": "\(description)"])
                return
            }
        }
        throw BourseError(.unavailable, "the membership kept changing (\(description)); try again")
    }

    /// One round: read, tick, act. Returns a reason when the node must stop.
    func step() async -> MembershipStopReason? {
        let view: MembershipView
        do {
            view = try Self.view(
                of: try await during("membership read") { try await store.membership() },
                previous: latest.withLock { $0 })
        } catch {
            logger.warning("membership read failed", metadata: ["error": "\(error)"])
            return nil
        }
        let previous = latest.withLock { latest in
            defer { latest = view }
            return latest.version
        }
        NodeMetrics.membershipVersion.record(view.version)
        NodeMetrics.ringVersion.record(Int64(view.assignment?.version ?? 0))
        if view.version != previous { await during("view change") { await onChange(view) } }
        let probes = probeResults.withLock { results in
            defer { results = [:] }
            return results
        }
        let now = clock()
        let actions = machine.withLock { $0.tick(view: view, nowMillis: now, probes: probes) }
        for action in actions {
            if let reason = await perform(action, view: view, now: now) { return reason }
        }
        return nil
    }

    private func perform(_ action: MembershipAction, view: MembershipView, now: Int64) async -> MembershipStopReason? {
        await during(Self.describe(action)) { await performNamed(action, view: view, now: now) }
    }

    private func performNamed(_ action: MembershipAction, view: MembershipView, now: Int64) async
        -> MembershipStopReason?
    {
        do {
            switch action {
            case .register(let change), .declareDead(_, let change), .admit(_, let change), .remove(_, let change):
                let applied = try await store.changeMembership(
                    expectedVersion: change.expectedVersion, members: change.members.map(MemberRow.init),
                    assignment: change.assignment.encoded())
                if applied {
                    changedHere.store(true, ordering: .releasing)
                    logger.info(
                        "membership changed",
                        metadata: [
                            "version": "\(change.expectedVersion + 1)", "change": "\(Self.describe(action))",
                        ])
                }
            case .heartbeat:
                let incarnation = machine.withLock { $0.incarnation }
                switch try await store.heartbeat(nodeID: nodeID, incarnation: incarnation, nowMillis: now) {
                case .recorded, .notRegistered: break
                case .superseded: return .superseded
                case .declaredDead: return .declaredDead
                }
            case .suspect(let peer, let incarnation):
                _ = try await store.suspect(nodeID: peer, incarnation: incarnation, by: nodeID, nowMillis: now)
            case .probe(let peers):
                let members = peers.compactMap { view.member($0) }
                let prober = self.prober
                let results = await withTaskGroup(of: (String, ProbeResult).self) { group in
                    for member in members {
                        group.addTask { (member.nodeID, await prober.probe(member) ? .answered : .failed) }
                    }
                    var results: [String: ProbeResult] = [:]
                    for await (peer, result) in group { results[peer] = result }
                    return results
                }
                probeResults.withLock { $0.merge(results) { _, new in new } }
            case .stop(let reason):
                return reason
            }
        } catch {
            logger.warning(
                "membership action failed", metadata: ["action": "\(Self.describe(action))", "error": "\(error)"])
        }
        return nil
    }

    /// The view of a snapshot. The assignment changes only with the version, so one of the same version as
    /// `previous` is taken from it rather than decoded again (every tick reads the table).
    static func view(of snapshot: MembershipSnapshot, previous: MembershipView? = nil) throws -> MembershipView {
        let assignment =
            if let previous, previous.version == snapshot.version, snapshot.version > 0 {
                previous.assignment
            } else {
                try snapshot.assignment.map { try ShardAssignment(decoding: $0) }
            }
        return MembershipView(
            version: snapshot.version, members: snapshot.members.map(ClusterMember.init), assignment: assignment)
    }

    private static func describe(_ action: MembershipAction) -> String {
        switch action {
        case .register: "register"
        case .heartbeat: "heartbeat"
        case .probe: "probe"
        case .suspect(let node, _): "suspect \(node)"
        case .declareDead(let nodes, _): "declare dead \(nodes.joined(separator: ","))"
        case .admit(let node, _): "admit \(node)"
        case .remove(let node, _): "remove \(node)"
        case .stop(let reason): "stop (\(reason.rawValue))"
        }
    }
}

extension ClusterMember {
    init(_ row: MemberRow) {
        self.init(
            nodeID: row.nodeID, peerAddress: row.peerAddress, apiAddress: row.apiAddress,
            status: Status(rawValue: row.status.rawValue) ?? .dead, incarnation: row.incarnation,
            heartbeatMillis: row.heartbeatMillis, suspicions: row.suspicions)
    }
}

extension MemberRow {
    init(_ member: ClusterMember) {
        self.init(
            nodeID: member.nodeID, peerAddress: member.peerAddress, apiAddress: member.apiAddress,
            status: MemberStatus(rawValue: member.status.rawValue) ?? .dead, incarnation: member.incarnation,
            heartbeatMillis: member.heartbeatMillis, suspicions: member.suspicions)
    }
}
