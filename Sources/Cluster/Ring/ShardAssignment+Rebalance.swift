extension ShardAssignment {
    /// The next assignment from this one, for a new member set and the same shards: see
    /// ``rebalanced(to:shards:version:)``.
    public func rebalanced(to members: some Sequence<String>, version: UInt64) -> ShardAssignment {
        rebalanced(to: CanonicalIDs(members), shards: shardIDs, version: version)
    }

    /// The next assignment from this one, moving as few shards as a balanced result allows.
    ///
    /// Shards keep their owner if it is still a member. Then every member gets a target of ⌊S/n⌋ or
    /// ⌈S/n⌉ shards (the larger ones go to the members holding the most), members above their target give
    /// up the shards they weigh lowest, and every shard without an owner (new, a departed member's, or
    /// given up) goes to the member with room that weighs it highest (`StableHash.weight`).
    ///
    /// From a balanced assignment, members leaving move exactly their shards; one member joining
    /// moves ⌊S/(n+1)⌋; a new shard moves nothing else. The result depends on this assignment, not
    /// only on the member set: nodes agree on it when they agree on the assignment it starts from.
    public func rebalanced(
        to members: some Sequence<String>, shards: some Sequence<String>, version: UInt64
    ) -> ShardAssignment {
        rebalanced(to: CanonicalIDs(members), shards: CanonicalIDs(shards), version: version)
    }

    func rebalanced(to members: CanonicalIDs, shards: CanonicalIDs, version: UInt64) -> ShardAssignment {
        // Where each old member sits in the new set (-1: gone).
        let carried = memberIDs.names.map { name in members.positions[name].map { Int32($0) } ?? -1 }
        var owners = [Int32](repeating: -1, count: shards.count)
        if shards == shardIDs {
            for index in owners.indices where self.owners[index] >= 0 {
                owners[index] = carried[Int(self.owners[index])]
            }
        } else {
            for (index, name) in shards.names.enumerated() {
                if let old = shardIDs.positions[name], self.owners[old] >= 0 {
                    owners[index] = carried[Int(self.owners[old])]
                }
            }
        }
        ShardBalancer.balance(&owners, members: members.hashes, shards: shards.hashes)
        return ShardAssignment(version: version, members: members, shards: shards, owners: owners)
    }
}
