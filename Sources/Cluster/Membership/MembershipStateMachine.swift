/// One node's membership logic (the Orleans membership-table model), pure: given the table as last read,
/// the time and the results of its probes, it says what to do next as `MembershipAction`s. The node
/// performs them against the store and the transport, reads the table again and ticks again.
///
/// The rules:
/// - **Register.** A node whose incarnation has no row registers `joining`. It registers `active` instead
///   when its previous incarnation is still active in the assignment (a restart keeps its shards; the new
///   incarnation takes the old one's leases at a higher epoch) or when no active member has heartbeated
///   within `deadAfterMillis` (the first node, or a cluster restarted from scratch). It declares nobody dead:
///   the silent rows are declared dead by the rules below once this node has read the table for long enough.
/// - **Admit.** The coordinator — the first live active member by node id that this node does not suspect —
///   admits a joining node whose heartbeat is fresh and whose last probe answered, one node per change; the
///   joiner gets ⌊S/(n+1)⌋ shards.
/// - **Suspect.** An active node suspects a peer silent for longer than `suspectAfterMillis`, or an active peer
///   that failed `probeFailuresToSuspect` probes in a row once its incarnation has been seen for
///   `probeGraceMillis`, and votes against its incarnation. Silence is the
///   heartbeat's age, counted no further back than this node's own unbroken run of table reads began
///   (`silence(of:now:)`).
/// - **Declare dead.** A peer is dead once it has votes from `min(votesToDeclareDead, active − 1)` (at least
///   1) distinct live active voters within `voteWindowMillis` — the node casting the deciding vote declares
///   it instead of voting — or, as a fallback, once its heartbeat is older than `deadAfterMillis`. Its shards
///   move with `rebalanced(to:version:)`.
/// - **Leave.** After `requestLeave()` the node takes itself out of the assignment (`leaving`); after
///   `finishLeave()` (its shards handed off) it marks itself dead and stops. The coordinator also removes
///   from the assignment any `leaving` member still in it.
/// - **Stop.** A node that finds its incarnation dead or superseded stops.
///
/// Only active members vote, coordinate or declare deaths; every change carries the full assignment of the
/// next version, and at most one change is proposed per tick.
public struct MembershipStateMachine: Sendable {
    /// This node's id.
    public let nodeID: String
    public let peerAddress: String
    public let apiAddress: String
    /// This process's incarnation (its start time in ms).
    public let incarnation: Int64
    /// Every shard of the cluster (`symbol/…` and `accounts/0000`…`accounts/1023`); the next change places
    /// shards added here.
    public var shards: [String]
    public let configuration: MembershipConfiguration

    var lastHeartbeatMillis: Int64?
    var lastProbeMillis: Int64?
    /// When this node last read the table (each tick follows a read), and since when it has read it without a
    /// gap longer than `suspectAfterMillis`: a peer's silence is counted only from then on (`silence(of:now:)`).
    var lastTickMillis: Int64?
    var contactSinceMillis: Int64?
    /// Consecutive failed probes per peer incarnation.
    var failures: [String: (incarnation: Int64, count: Int)] = [:]
    /// Peers whose latest probe answered.
    var answered: Set<String> = []
    /// Each peer's incarnation as this node last saw it, and since when (`MembershipConfiguration.probeGraceMillis`).
    var seen: [String: (incarnation: Int64, since: Int64)] = [:]
    var leaveRequested = false
    var leaveFinished = false

    public init(
        nodeID: String, peerAddress: String, apiAddress: String, incarnation: Int64, shards: [String],
        configuration: MembershipConfiguration = MembershipConfiguration()
    ) {
        self.nodeID = nodeID
        self.peerAddress = peerAddress
        self.apiAddress = apiAddress
        self.incarnation = incarnation
        self.shards = shards
        self.configuration = configuration
    }

    /// Asks to leave the cluster: the next ticks take this node out of the assignment.
    public mutating func requestLeave() {
        leaveRequested = true
    }

    /// Says that this node's shards are handed off: the next tick marks it dead (left), then it stops.
    public mutating func finishLeave() {
        leaveRequested = true
        leaveFinished = true
    }

    /// The actions for `view` at `nowMillis`; `probes` are the results of the probes asked for since the
    /// last tick, by node id.
    public mutating func tick(
        view: MembershipView, nowMillis: Int64, probes: [String: ProbeResult] = [:]
    ) -> [MembershipAction] {
        record(probes, view: view)
        noteIncarnations(view: view, now: nowMillis)
        noteContact(now: nowMillis)
        guard let me = view.member(nodeID), me.incarnation >= incarnation else {
            return [register(view: view, now: nowMillis)]
        }
        if me.incarnation > incarnation { return [.stop(.superseded)] }
        if me.status == .dead { return [.stop(leaveFinished ? .left : .declaredDead)] }

        var actions: [MembershipAction] = []
        if due(lastHeartbeatMillis, configuration.heartbeatIntervalMillis, now: nowMillis) {
            lastHeartbeatMillis = nowMillis
            actions.append(.heartbeat)
        }
        if due(lastProbeMillis, configuration.probeIntervalMillis, now: nowMillis) {
            lastProbeMillis = nowMillis
            let peers = view.members.filter { $0.nodeID != nodeID && $0.status != .dead }.map(\.nodeID).sorted()
            if !peers.isEmpty { actions.append(.probe(peers)) }
        }
        switch me.status {
        case .active:
            let verdicts = judgePeers(view: view, now: nowMillis)
            actions += verdicts.votes.map { .suspect(nodeID: $0.nodeID, incarnation: $0.incarnation) }
            if let change = activeChange(view: view, me: me, dead: verdicts.dead, now: nowMillis) {
                actions.append(change)
            }
        case .joining:
            if let change = joiningChange(view: view, me: me, now: nowMillis) { actions.append(change) }
        case .leaving:
            if leaveFinished {
                let change = view.change(upserting: [me.with(status: .dead)], shards: shards)
                actions.append(.declareDead([nodeID], change))
            }
        case .dead:
            break
        }
        return actions
    }

    // MARK: - Registration and own status

    /// The row of this incarnation. It declares nobody dead: heartbeats it finds old may be those of live nodes
    /// that could not write them (a node restarted during a database outage declared its live peers dead at
    /// registration, and they stopped). Members that stay silent are declared dead by the usual rules, counted
    /// from this node's first read.
    mutating func register(view: MembershipView, now: Int64) -> MembershipAction {
        let previous = view.member(nodeID)
        let others = view.members.filter { $0.nodeID != nodeID }
        let liveActive = others.filter {
            $0.status == .active && age(of: $0, now: now) <= configuration.deadAfterMillis
        }
        let status: ClusterMember.Status
        if liveActive.isEmpty {
            status = .active
        } else if let previous, previous.status == .active, view.assignment?.contains(member: nodeID) == true {
            status = .active
        } else {
            status = .joining
        }
        let me = ClusterMember(
            nodeID: nodeID, peerAddress: peerAddress, apiAddress: apiAddress, status: status,
            incarnation: incarnation, heartbeatMillis: now)
        lastHeartbeatMillis = now
        return .register(view.change(upserting: [me], shards: shards))
    }

    /// A joining node leaves if asked, or takes over when no active member is alive any more.
    func joiningChange(view: MembershipView, me: ClusterMember, now: Int64) -> MembershipAction? {
        if leaveRequested {
            return .remove(nodeID, view.change(upserting: [me.with(status: .leaving)], shards: shards))
        }
        let others = view.members.filter { $0.nodeID != nodeID && $0.status != .dead }
        let anyActiveAlive = others.contains {
            $0.status == .active && silence(of: $0, now: now) <= configuration.deadAfterMillis
        }
        guard !anyActiveAlive else { return nil }
        let silent = others.filter { $0.status == .active }.map { $0.with(status: .dead) }
        return .admit(nodeID, view.change(upserting: [me.with(status: .active)] + silent, shards: shards))
    }

    // MARK: - Helpers

    /// Counts failed probes in a row per peer incarnation; an answer resets the count.
    mutating func record(_ probes: [String: ProbeResult], view: MembershipView) {
        for (peer, result) in probes {
            guard let member = view.member(peer) else { continue }
            var entry = failures[peer] ?? (member.incarnation, 0)
            if entry.incarnation != member.incarnation { entry = (member.incarnation, 0) }
            switch result {
            case .answered:
                entry.count = 0
                answered.insert(peer)
            case .failed:
                entry.count += 1
                answered.remove(peer)
            }
            failures[peer] = entry
        }
    }

    /// Remembers when each peer's current incarnation was first seen.
    mutating func noteIncarnations(view: MembershipView, now: Int64) {
        for member in view.members where member.nodeID != nodeID {
            if seen[member.nodeID]?.incarnation != member.incarnation {
                seen[member.nodeID] = (member.incarnation, now)
            }
        }
    }

    /// Whether `member`'s incarnation was seen less than `probeGraceMillis` ago (or not yet).
    func onProbation(_ member: ClusterMember, now: Int64) -> Bool {
        guard let entry = seen[member.nodeID], entry.incarnation == member.incarnation else { return true }
        return elapsed(since: entry.since, now: now) < configuration.probeGraceMillis
    }

    /// Failed probes in a row of `member`'s incarnation.
    func failedProbes(_ member: ClusterMember) -> Int {
        guard let entry = failures[member.nodeID], entry.incarnation == member.incarnation else { return 0 }
        return entry.count
    }

    /// How long ago `member` heartbeated (0 for a heartbeat from the future; never overflows).
    func age(of member: ClusterMember, now: Int64) -> Int64 {
        elapsed(since: member.heartbeatMillis, now: now)
    }

    /// Starts the contact over when this node has not read the table for longer than `suspectAfterMillis` (the
    /// database was unreachable, or the node stalled).
    mutating func noteContact(now: Int64) {
        if let last = lastTickMillis, elapsed(since: last, now: now) <= configuration.suspectAfterMillis {
            contactSinceMillis = contactSinceMillis ?? now
        } else {
            contactSinceMillis = now
        }
        lastTickMillis = now
    }

    /// How long `member` has been silent as far as this node can tell: its heartbeat's age, but no longer than
    /// this node has been reading the table without a gap. A heartbeat a peer could not write while this node
    /// could not read the table either is no evidence against it: after a database outage every heartbeat is old,
    /// and the first node back would otherwise declare the others dead before they could write theirs.
    func silence(of member: ClusterMember, now: Int64) -> Int64 {
        min(age(of: member, now: now), contactSinceMillis.map { elapsed(since: $0, now: now) } ?? 0)
    }

    func elapsed(since then: Int64, now: Int64) -> Int64 {
        let (difference, overflow) = now.subtractingReportingOverflow(then)
        return overflow ? (then < 0 ? Int64.max : 0) : max(0, difference)
    }

    func due(_ last: Int64?, _ interval: Int64, now: Int64) -> Bool {
        guard let last else { return true }
        return elapsed(since: last, now: now) >= interval
    }
}

extension ShardAssignment {
    /// Whether `member` is one of this assignment's members.
    func contains(member: String) -> Bool {
        memberIDs.positions[member] != nil
    }
}
