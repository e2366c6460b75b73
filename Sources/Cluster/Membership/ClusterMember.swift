/// One node as the membership table describes it (the Storage module's `MemberRow`, without the dependency).
public struct ClusterMember: Sendable, Hashable {
    /// `joining` → `active` → `leaving` → `dead`; a failed node goes straight to `dead`.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Registered, not in the shard assignment yet; waits to be admitted.
        case joining
        /// In the shard assignment: owns shards, probes, votes and changes the membership.
        case active
        /// Out of the assignment, still alive to hand its shards off.
        case leaving
        /// Failed or left. A process that finds its own incarnation dead must stop.
        case dead
    }

    /// The node's stable id (`bourse-0`).
    public var nodeID: String
    /// `host:port` of the inter-node transport (what probes go to).
    public var peerAddress: String
    /// `host:port` of the client API.
    public var apiAddress: String
    public var status: Status
    /// Which run of the node this is (its start time in ms); a restart has a higher one.
    public var incarnation: Int64
    /// When the node last heartbeated (ms since 1970, by its own clock).
    public var heartbeatMillis: Int64
    /// Suspicion votes against this incarnation: voter node id → when it voted (ms).
    public var suspicions: [String: Int64]

    public init(
        nodeID: String, peerAddress: String, apiAddress: String, status: Status, incarnation: Int64,
        heartbeatMillis: Int64, suspicions: [String: Int64] = [:]
    ) {
        self.nodeID = nodeID
        self.peerAddress = peerAddress
        self.apiAddress = apiAddress
        self.status = status
        self.incarnation = incarnation
        self.heartbeatMillis = heartbeatMillis
        self.suspicions = suspicions
    }

    /// The same node with another status.
    public func with(status: Status) -> ClusterMember {
        var member = self
        member.status = status
        return member
    }
}
