/// Which live member owns each shard, for one membership version.
///
/// Every construction is a pure function of its inputs, independent of the order in which members
/// and shards are listed and of the process (`StableHash`, not `Hasher`), so nodes that agree on the
/// inputs agree on every owner:
///
/// - ``rendezvous(members:shards:version:)``: highest random weight, a function of the member set
///   alone. A leaving member's shards move and no other; a joining member takes only the shards it
///   then owns. Its balance is a random draw: max/mean ≈ 1.25 at 100 members with 10,000 shards.
/// - ``rebalanced(to:version:)``: the next assignment from this one. Shards of departed members and
///   the fewest shards needed to even out the loads move, to the members that weigh them highest;
///   afterwards every member has ⌊S/n⌋ or ⌈S/n⌉ shards. Leaving moves only the leaver's shards and
///   joining moves ⌊S/(n+1)⌋. Nodes agree on it if they agree on the assignment it starts from.
/// - ``init(members:shards:version:)``: the balanced assignment of a membership with no history:
///   rendezvous, then rebalanced to the same members.
///
/// See docs/architecture.md ("Cluster") for why both schemes exist and which one the cluster uses.
public struct ShardAssignment: Sendable {
    /// The membership version this assignment belongs to.
    public let version: UInt64
    let memberIDs: CanonicalIDs
    let shardIDs: CanonicalIDs
    /// The owner of `shardIDs.names[i]` as a position in `memberIDs` (-1: no members).
    let owners: [Int32]

    init(version: UInt64, members: CanonicalIDs, shards: CanonicalIDs, owners: [Int32]) {
        self.version = version
        memberIDs = members
        shardIDs = shards
        self.owners = owners
    }

    /// The balanced assignment of `members` with no history: see the type's documentation.
    public init(members: some Sequence<String>, shards: some Sequence<String>, version: UInt64 = 0) {
        let start = ShardAssignment.rendezvous(members: members, shards: shards, version: version)
        self = start.rebalanced(to: start.memberIDs, shards: start.shardIDs, version: version)
    }

    /// The members, in canonical order (by `StableHash`, then bytes).
    public var members: [String] { memberIDs.names }

    /// The shards, in canonical order.
    public var shards: [String] { shardIDs.names }

    /// The member that owns `shard`; nil for a shard not in the assignment or when there are no members.
    public func owner(of shard: String) -> String? {
        guard let position = shardIDs.positions[shard] else { return nil }
        let owner = owners[position]
        return owner < 0 ? nil : memberIDs.names[Int(owner)]
    }

    /// The shards that `member` owns, in canonical order.
    public func shards(ownedBy member: String) -> [String] {
        guard let position = memberIDs.positions[member] else { return [] }
        return owners.indices.filter { owners[$0] == Int32(position) }.map { shardIDs.names[$0] }
    }

    /// Shards per member, in the order of `members`.
    public var loads: [Int] {
        var loads = [Int](repeating: 0, count: memberIDs.count)
        for owner in owners where owner >= 0 { loads[Int(owner)] += 1 }
        return loads
    }

    /// The largest load over the mean load (1 is perfect balance); 0 without members or shards.
    public var maxOverMean: Double {
        guard memberIDs.count > 0, shardIDs.count > 0 else { return 0 }
        return Double(loads.max() ?? 0) * Double(memberIDs.count) / Double(shardIDs.count)
    }
}

extension ShardAssignment: Equatable {
    public static func == (left: ShardAssignment, right: ShardAssignment) -> Bool {
        left.version == right.version && left.owners == right.owners && left.memberIDs == right.memberIDs
            && left.shardIDs == right.shardIDs
    }
}
