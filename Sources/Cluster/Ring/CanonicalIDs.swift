/// A set of ids (member ids or shard keys) in the ring's canonical order, with their hashes.
///
/// The order is by `StableHash`, then by UTF-8 bytes, so it depends only on the set: the same ids
/// listed in any order, with or without duplicates, give the same value.
struct CanonicalIDs: Sendable, Equatable {
    let names: [String]
    let hashes: [UInt64]
    let positions: [String: Int]

    init(_ ids: some Sequence<String>) {
        var unique: [String: UInt64] = [:]
        for id in ids where unique[id] == nil { unique[id] = StableHash.hash(id) }
        let sorted = unique.sorted { left, right in
            left.value != right.value
                ? left.value < right.value : left.key.utf8.lexicographicallyPrecedes(right.key.utf8)
        }
        names = sorted.map(\.key)
        hashes = sorted.map(\.value)
        var positions: [String: Int] = [:]
        positions.reserveCapacity(names.count)
        for (position, name) in names.enumerated() { positions[name] = position }
        self.positions = positions
    }

    var count: Int { names.count }

    static func == (left: CanonicalIDs, right: CanonicalIDs) -> Bool {
        left.hashes == right.hashes && left.names == right.names
    }
}
