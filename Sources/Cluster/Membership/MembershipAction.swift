/// What `MembershipStateMachine.tick` asks the node to do, in order.
///
/// The changes (`register`, `declareDead`, `admit`, `remove`) are compare-and-swaps of the table version
/// (`MembershipStore.changeMembership`); a lost race is no error: the node reads the table again and ticks.
public enum MembershipAction: Sendable, Equatable {
    /// Write this node's row (a new incarnation): `joining`, or `active` when it rejoins with the shards its
    /// previous incarnation still owns or finds no live active member.
    case register(MembershipChange)
    /// Write this node's heartbeat (`MembershipStore.heartbeat`; no version change).
    case heartbeat
    /// Probe these peers directly over the transport and report the results to the next `tick`.
    case probe([String])
    /// Vote this incarnation of a peer suspect (`MembershipStore.suspect`; no version change).
    case suspect(nodeID: String, incarnation: Int64)
    /// Mark these nodes dead; their shards move to the others (`rebalanced(to:version:)`).
    case declareDead([String], MembershipChange)
    /// Make a joining node active; the assignment moves its share of shards to it.
    case admit(String, MembershipChange)
    /// Take a leaving node out of the assignment (its row becomes or stays `leaving`).
    case remove(String, MembershipChange)
    /// This process must stop: its incarnation is dead, superseded, or has left.
    case stop(MembershipStopReason)

    /// The table change this action makes, if any.
    public var change: MembershipChange? {
        switch self {
        case .register(let change), .declareDead(_, let change), .admit(_, let change), .remove(_, let change):
            return change
        case .heartbeat, .probe, .suspect, .stop:
            return nil
        }
    }
}

/// Why a node must stop.
public enum MembershipStopReason: String, Sendable, Hashable {
    /// The table holds a newer incarnation of this node: this process is a zombie.
    case superseded
    /// Peers declared this incarnation dead.
    case declaredDead
    /// The node left the cluster as asked.
    case left
}

/// The result of one direct probe of a peer.
public enum ProbeResult: Sendable, Hashable {
    case answered
    case failed
}
