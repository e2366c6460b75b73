/// A compare-and-swap of the membership table: write `members` and `assignment` as version
/// `expectedVersion + 1` if the table is still at `expectedVersion` (`MembershipStore.changeMembership`).
public struct MembershipChange: Sendable, Equatable {
    public var expectedVersion: Int64
    /// The rows to upsert; the others stay as they are.
    public var members: [ClusterMember]
    /// The full assignment of version `expectedVersion + 1`.
    public var assignment: ShardAssignment

    public init(expectedVersion: Int64, members: [ClusterMember], assignment: ShardAssignment) {
        self.expectedVersion = expectedVersion
        self.members = members
        self.assignment = assignment
    }

    /// The view after the change has been written.
    public func applied(to view: MembershipView) -> MembershipView {
        var members = view.members
        for row in self.members {
            if let index = members.firstIndex(where: { $0.nodeID == row.nodeID }) {
                members[index] = row
            } else {
                members.append(row)
            }
        }
        return MembershipView(version: expectedVersion + 1, members: members, assignment: assignment)
    }
}
