extension ShardAssignment {
    /// A shard whose owner differs between two assignments: one handoff.
    public struct Move: Sendable, Hashable {
        public var shard: String
        /// The owner before; nil for a shard that is new or had no owner.
        public var from: String?
        /// The owner after; nil for a shard that was removed or has no owner.
        public var to: String?

        public init(shard: String, from: String?, to: String?) {
            self.shard = shard
            self.from = from
            self.to = to
        }
    }

    /// The shards whose owner differs in `next`: its shards in canonical order, then removed shards.
    public func moves(to next: ShardAssignment) -> [Move] {
        var moves: [Move] = []
        for (index, shard) in next.shardIDs.names.enumerated() {
            let to = next.owners[index] < 0 ? nil : next.memberIDs.names[Int(next.owners[index])]
            let from = owner(of: shard)
            if from != to { moves.append(Move(shard: shard, from: from, to: to)) }
        }
        for shard in shardIDs.names where next.shardIDs.positions[shard] == nil {
            if let from = owner(of: shard) { moves.append(Move(shard: shard, from: from, to: nil)) }
        }
        return moves
    }
}

extension ShardAssignment {
    /// This assignment with `shard` owned by `member`, as the assignment of membership version `version` (an
    /// operator's move); nil when the shard or the member is not in it. The next membership change rebalances
    /// from it, so the shard stays where it was moved unless evening out the loads then needs it elsewhere.
    public func moving(_ shard: String, to member: String, version: UInt64) -> ShardAssignment? {
        guard let position = shardIDs.positions[shard], let owner = memberIDs.positions[member] else { return nil }
        var owners = self.owners
        owners[position] = Int32(owner)
        return ShardAssignment(version: version, members: memberIDs, shards: shardIDs, owners: owners)
    }
}
