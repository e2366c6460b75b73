/// Evens out shard ownership with the fewest moves: the core of `ShardAssignment.rebalanced`.
///
/// Members and shards are positions in canonical order; an owner of -1 means "no owner yet".
enum ShardBalancer {
    static func balance(_ owners: inout [Int32], members: [UInt64], shards: [UInt64]) {
        guard !members.isEmpty else {
            for index in owners.indices { owners[index] = -1 }
            return
        }
        var loads = [Int](repeating: 0, count: members.count)
        for owner in owners where owner >= 0 { loads[Int(owner)] += 1 }
        let targets = targets(loads: loads, shardCount: owners.count)
        shed(&owners, loads: &loads, targets: targets, members: members, shards: shards)
        place(&owners, loads: &loads, targets: targets, members: members, shards: shards)
    }

    /// ⌊S/n⌋ for every member and one more for the S mod n members that hold the most (ties: canonical
    /// order). A member holding at most ⌈S/n⌉ of a previous, balanced membership is never above its target
    /// after others leave, so a departure moves only the departed member's shards.
    static func targets(loads: [Int], shardCount: Int) -> [Int] {
        var targets = [Int](repeating: shardCount / loads.count, count: loads.count)
        let byLoad = loads.indices.sorted { loads[$0] != loads[$1] ? loads[$0] > loads[$1] : $0 < $1 }
        for member in byLoad.prefix(shardCount % loads.count) { targets[member] += 1 }
        return targets
    }

    /// Members above their target give up the shards they weigh lowest (ties: canonical shard order).
    static func shed(_ owners: inout [Int32], loads: inout [Int], targets: [Int], members: [UInt64], shards: [UInt64]) {
        guard loads.indices.contains(where: { loads[$0] > targets[$0] }) else { return }
        var held = [[(weight: UInt64, shard: Int)]](repeating: [], count: members.count)
        for index in owners.indices where owners[index] >= 0 {
            let member = Int(owners[index])
            if loads[member] > targets[member] {
                held[member].append((StableHash.weight(shard: shards[index], member: members[member]), index))
            }
        }
        for member in held.indices where !held[member].isEmpty {
            let lowestFirst = held[member].sorted {
                $0.weight != $1.weight ? $0.weight < $1.weight : $0.shard < $1.shard
            }
            for entry in lowestFirst.prefix(loads[member] - targets[member]) { owners[entry.shard] = -1 }
            loads[member] = targets[member]
        }
    }

    /// Every shard without an owner, in canonical order, goes to the member with room that weighs it
    /// highest (ties: canonical member order). The rooms add up to the shards without an owner.
    static func place(_ owners: inout [Int32], loads: inout [Int], targets: [Int], members: [UInt64], shards: [UInt64])
    {
        // Members with room, in canonical order: the first of equal weights wins.
        var open = members.indices.filter { loads[$0] < targets[$0] }
        for index in owners.indices where owners[index] < 0 {
            var bestAt = 0
            var bestWeight = StableHash.weight(shard: shards[index], member: members[open[0]])
            for at in open.indices.dropFirst() {
                let weight = StableHash.weight(shard: shards[index], member: members[open[at]])
                if weight > bestWeight {
                    bestAt = at
                    bestWeight = weight
                }
            }
            let member = open[bestAt]
            owners[index] = Int32(member)
            loads[member] += 1
            if loads[member] == targets[member] { open.remove(at: bestAt) }
        }
    }
}
