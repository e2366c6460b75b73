/// The membership table as one node read it: a version, every member row and the shard assignment
/// stored with that version.
///
/// The node builds it from the store's snapshot (decoding the assignment with
/// `ShardAssignment(decoding:)`); every node that reads the same version routes the same way.
public struct MembershipView: Sendable, Equatable {
    /// 0 before the first change; each membership change adds 1.
    public var version: Int64
    /// Every row, dead ones included.
    public var members: [ClusterMember]
    /// The assignment of `version`; nil before the first change (or when it could not be read, in which
    /// case the next change computes one from scratch).
    public var assignment: ShardAssignment?

    public init(version: Int64, members: [ClusterMember], assignment: ShardAssignment?) {
        self.version = version
        self.members = members
        self.assignment = assignment
    }

    /// The table before any node registered.
    public static let empty = MembershipView(version: 0, members: [], assignment: nil)

    /// The row of `nodeID`.
    public func member(_ nodeID: String) -> ClusterMember? {
        members.first { $0.nodeID == nodeID }
    }

    /// The members with `status`, ordered by node id.
    public func members(_ status: ClusterMember.Status) -> [ClusterMember] {
        members.filter { $0.status == status }.sorted { $0.nodeID < $1.nodeID }
    }

    /// The member that owns `shard` in this version's assignment.
    public func owner(of shard: String) -> ClusterMember? {
        assignment?.owner(of: shard).flatMap { member($0) }
    }

    /// The change to version + 1 that upserts `rows` (by node id): the next assignment is this one
    /// rebalanced to the members that are active once `rows` are written, over `shards` and this one's.
    public func change(upserting rows: [ClusterMember], shards: [String]) -> MembershipChange {
        var byID: [String: ClusterMember] = [:]
        for member in members { byID[member.nodeID] = member }
        for row in rows { byID[row.nodeID] = row }
        let active = byID.values.filter { $0.status == .active }.map(\.nodeID)
        let next = UInt64(clamping: version + 1)
        // Shards are never removed: one added by another node (a market added at run time) stays even when the
        // node making this change has not learnt of it yet.
        let shards = Set(shards).union(assignment?.shards ?? [])
        let assignment =
            assignment?.rebalanced(to: active, shards: shards, version: next)
            ?? ShardAssignment(members: active, shards: shards, version: next)
        return MembershipChange(expectedVersion: version, members: rows, assignment: assignment)
    }
}
