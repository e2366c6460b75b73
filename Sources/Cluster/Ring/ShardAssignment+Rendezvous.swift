extension ShardAssignment {
    /// Rendezvous (highest random weight) hashing: every shard goes to the member with the highest
    /// `StableHash.weight` for it (ties, at odds of 2⁻⁶⁴: the first in canonical order).
    ///
    /// A function of the member set alone. Removing a member moves exactly its shards, each to its
    /// next choice; adding one moves exactly the shards it now wins. Loads are a multinomial draw:
    /// about S/n ± √(S/n) shards per member.
    public static func rendezvous(
        members: some Sequence<String>, shards: some Sequence<String>, version: UInt64 = 0
    ) -> ShardAssignment {
        let members = CanonicalIDs(members)
        let shards = CanonicalIDs(shards)
        var owners = [Int32](repeating: -1, count: shards.count)
        if members.count > 0 {
            members.hashes.withUnsafeBufferPointer { memberHashes in
                for index in owners.indices {
                    owners[index] = Int32(firstChoice(shard: shards.hashes[index], members: memberHashes))
                }
            }
        }
        return ShardAssignment(version: version, members: members, shards: shards, owners: owners)
    }

    /// The rendezvous owner of one shard among `members`, without building an assignment: O(n).
    public static func rendezvousOwner(of shard: String, among members: some Sequence<String>) -> String? {
        let shardHash = StableHash.hash(shard)
        var best: (weight: UInt64, hash: UInt64, id: String)?
        for member in members {
            let hash = StableHash.hash(member)
            let candidate = (weight: StableHash.weight(shard: shardHash, member: hash), hash: hash, id: member)
            guard let current = best else {
                best = candidate
                continue
            }
            if candidate.weight != current.weight {
                if candidate.weight > current.weight { best = candidate }
            } else if candidate.hash != current.hash {
                if candidate.hash < current.hash { best = candidate }
            } else if candidate.id.utf8.lexicographicallyPrecedes(current.id.utf8) {
                best = candidate
            }
        }
        return best?.id
    }

    /// The position of the member with the highest weight for `shard`; the first one on a tie.
    @inline(__always)
    static func firstChoice(shard: UInt64, members: UnsafeBufferPointer<UInt64>) -> Int {
        var best = 0
        var bestWeight = StableHash.weight(shard: shard, member: members[0])
        for position in 1..<members.count {
            let weight = StableHash.weight(shard: shard, member: members[position])
            if weight > bestWeight {
                best = position
                bestWeight = weight
            }
        }
        return best
    }
}
