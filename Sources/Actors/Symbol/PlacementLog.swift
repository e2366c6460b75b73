import Trading

/// Which orders each account shard has had placed in one book, so that a place sent again — a retry after a
/// lost answer, a resubmission after the account shard or the symbol moved — is recognised and not placed
/// twice, however long the order has been gone from the book.
///
/// It stays small because every place carries its account shard's watermark (`AccountShardState.settledThrough`):
/// the shard's ids at or below it are answered or given up, so the log keeps only the ids above the highest
/// watermark it has seen (and some below it, forgotten in bulk) and refuses every id at or below it (an order its shard gave up is not placed once
/// the book knows that). The log is part of the symbol's state: rebuilt by replay, kept in snapshots.
public struct PlacementLog: Sendable, Hashable {
    struct Shard: Sendable, Hashable {
        /// Every id of the shard at or below this is settled: never placed (again).
        var settledThrough: OrderID
        /// Ids above `settledThrough` placed here (and some below it, not pruned yet).
        var placed: Set<OrderID>
        /// `placed.count` after the last pruning: the next is when it has doubled.
        var prunedCount = 0
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
        // In place: copying the shard out of the dictionary would copy its set on every insert.
        Self.record(id, watermark: watermark, in: &shards[index, default: Shard(settledThrough: 0, placed: [])])
    }

    private static func record(_ id: OrderID, watermark: OrderID, in shard: inout Shard) {
        // A watermark of another shard (corrupt input) must not settle this one's ids.
        if OrderIDs.shard(of: watermark) == OrderIDs.shard(of: id), watermark > shard.settledThrough {
            shard.settledThrough = watermark
        }
        // Ids at or below the watermark are refused by it anyway: forgotten in bulk once the set has doubled
        // since the last pruning (amortized O(1) per place however many orders are in flight).
        if shard.placed.count >= max(pruneAt, 2 * shard.prunedCount) {
            let settled = shard.settledThrough
            shard.placed = shard.placed.filter { $0 > settled }
            shard.prunedCount = shard.placed.count
        }
        if id > shard.settledThrough { shard.placed.insert(id) }
    }

    /// Ids remembered (what the log costs): those above the watermarks, and at most as many again (or `pruneAt`)
    /// per shard below.
    public var remembered: Int { shards.values.reduce(0) { $0 + $1.placed.count } }

    /// A shard's remembered ids are pruned when there are this many, or twice as many as after the last pruning.
    static let pruneAt = 64
}

extension BinaryWriter {
    mutating func write(placements log: PlacementLog) {
        let shards = log.shards.sorted { $0.key < $1.key }
        writeCount(shards.count)
        for (index, shard) in shards {
            write(Int64(index))
            write(shard.settledThrough)
            write(Int64(shard.prunedCount))
            writeCount(shard.placed.count)
            for id in shard.placed.sorted() { write(id) }
        }
    }
}

extension BinaryReader {
    mutating func readPlacements() throws(BourseError) -> PlacementLog {
        var log = PlacementLog()
        for _ in 0..<(try readCount(minimumElementSize: 32)) {
            let index = try readInt64()
            guard index >= 0, index < 1 << 16 else { throw BourseError(.internal, "corrupt snapshot: placements") }
            var shard = PlacementLog.Shard(settledThrough: try readUInt64(), placed: [])
            guard let pruned = Int(exactly: try readInt64()), pruned >= 0 else {
                throw BourseError(.internal, "corrupt snapshot: placements")
            }
            shard.prunedCount = pruned
            for _ in 0..<(try readCount(minimumElementSize: 8)) { shard.placed.insert(try readUInt64()) }
            log.restore(shard, at: Int(index))
        }
        return log
    }
}

extension PlacementLog {
    fileprivate mutating func restore(_ shard: Shard, at index: Int) { shards[index] = shard }
}
