/// The timeouts and thresholds of membership, in milliseconds.
///
/// The defaults detect a silent node within `suspectAfterMillis` (3 s) plus a probe round when peers can vote,
/// and within `deadAfterMillis` (10 s) in any case. Clocks of the nodes are assumed to agree to well within
/// `suspectAfterMillis` (heartbeats carry the writer's clock and are judged by the reader's).
public struct MembershipConfiguration: Sendable, Hashable {
    /// How often a node writes its heartbeat.
    public var heartbeatIntervalMillis: Int64
    /// How often a node probes its peers directly (over the transport).
    public var probeIntervalMillis: Int64
    /// A peer whose heartbeat is older than this is suspected.
    public var suspectAfterMillis: Int64
    /// A peer whose heartbeat is older than this is declared dead by any live active member, votes or not
    /// (so that a node alone, or a cluster that lost most members at once, still makes progress).
    public var deadAfterMillis: Int64
    /// Consecutive failed probes after which a peer is suspected even if its heartbeat is fresh.
    public var probeFailuresToSuspect: Int
    /// How long after this node first sees a peer's incarnation its failed probes are no reason to suspect it: a
    /// node restarted on the same address is probed at first through a client still backing off (up to 5 s) from
    /// the previous process. Its heartbeat is judged as always.
    public var probeGraceMillis: Int64
    /// A vote counts for this long after it was cast; a suspecting node refreshes its vote every half window.
    public var voteWindowMillis: Int64
    /// Distinct live voters needed to declare a node dead, capped at the number of other active members
    /// (`min(votesToDeclareDead, active − 1)`, at least 1).
    public var votesToDeclareDead: Int

    public init(
        heartbeatIntervalMillis: Int64 = 1_000, probeIntervalMillis: Int64 = 1_000, suspectAfterMillis: Int64 = 3_000,
        deadAfterMillis: Int64 = 10_000, probeFailuresToSuspect: Int = 3, voteWindowMillis: Int64 = 10_000,
        votesToDeclareDead: Int = 2, probeGraceMillis: Int64 = 8_000
    ) {
        self.probeGraceMillis = probeGraceMillis
        self.heartbeatIntervalMillis = heartbeatIntervalMillis
        self.probeIntervalMillis = probeIntervalMillis
        self.suspectAfterMillis = suspectAfterMillis
        self.deadAfterMillis = deadAfterMillis
        self.probeFailuresToSuspect = probeFailuresToSuspect
        self.voteWindowMillis = voteWindowMillis
        self.votesToDeclareDead = votesToDeclareDead
    }
}
