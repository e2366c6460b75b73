import Trading

/// Which orders each account shard has had placed in one book, so that a place sent again — a retry after a
/// lost answer, a resubmission after the account shard or the symbol moved — is recognised and not placed
/// twice, however long the order has been gone from the book.
///
/// It stays small because every place carries its account shard's watermark (`AccountShardState.settledThrough`):
/// the shard's ids at or below it are answered or given up, so the log keeps only the ids above the highest
/// watermark it has seen (and up to `pruneAt` below it, forgotten in bulk) and refuses every id at or below it (an order its shard gave up is not placed once
/// the book knows that). The log is part of the symbol's state: rebuilt by replay, kept in snapshots.
public struct PlacementLog: Sendable, Hashable {
    struct Shard: Sendable, Hashable {
        /// Every id of the shard at or below this is settled: never placed (again).
        var settledThrough: OrderID
        /// Ids above `settledThrough` placed here.
        var placed: Set<OrderID>
    }

    private(set) var shards: [Int: Shard] = [:]

    public init() {}

    /// Whether a place of `id` would be a repeat: placed before, or settled by its shard.
    public func isRepeat(_ id: OrderID) -> Bool {
        guard let shard = shards[OrderIDs.shard(of: id)] else { return false }
        return id <= shard.settledThrough || shard.placed.contains(id)
    }

    /// Takes the place of `id` (call only when it is not a repeat) and its shard's watermark.
    public mutating func record(_ id: OrderID, settledThrough watermark: OrderID) {
        let index = OrderIDs.shard(of: id)
        var shard = shards[index] ?? Shard(settledThrough: 0, placed: [])
        // A watermark of another shard (corrupt input) must not settle this one's ids.
        if OrderIDs.shard(of: watermark) == index, watermark > shard.settledThrough {
            shard.settledThrough = watermark
        }
        // Ids at or below the watermark are refused by it anyway: forgotten in bulk, not on every place.
        if shard.placed.count >= Self.pruneAt {
            let settled = shard.settledThrough
            shard.placed = shard.placed.filter { $0 > settled }
        }
        if id > shard.settledThrough { shard.placed.insert(id) }
        shards[index] = shard
    }

    /// Ids remembered (what the log costs): those above the watermarks, and fewer than `pruneAt` per shard below.
    public var remembered: Int { shards.values.reduce(0) { $0 + $1.placed.count } }

    /// A shard's remembered ids are pruned when there are this many.
    static let pruneAt = 64
}

extension BinaryWriter {
    mutating func write(placements log: PlacementLog) {
        let shards = log.shards.sorted { $0.key < $1.key }
        writeCount(shards.count)
        for (index, shard) in shards {
            write(Int64(index))
            write(shard.settledThrough)
            writeCount(shard.placed.count)
            for id in shard.placed.sorted() { write(id) }
        }
    }
}

extension BinaryReader {
    mutating func readPlacements() throws(BourseError) -> PlacementLog {
        var log = PlacementLog()
        for _ in 0..<(try readCount(minimumElementSize: 24)) {
            let index = try readInt64()
            guard index >= 0, index < 1 << 16 else { throw BourseError(.internal, "corrupt snapshot: placements") }
            var shard = PlacementLog.Shard(settledThrough: try readUInt64(), placed: [])
            for _ in 0..<(try readCount(minimumElementSize: 8)) { shard.placed.insert(try readUInt64()) }
            log.restore(shard, at: Int(index))
        }
        return log
    }
}

extension PlacementLog {
    fileprivate mutating func restore(_ shard: Shard, at index: Int) { shards[index] = shard }
}
