/// Order id → slot map: open addressing with linear probing and backward-shift deletion.
///
/// Swift's `Dictionary` hashes with a per-process seeded SipHash; this map multiplies by a constant
/// (Fibonacci hashing), never leaves tombstones and keeps its arrays flat, which makes lookups on the
/// matching hot path a few nanoseconds. Values are non-negative slot numbers; `-1` marks an empty bucket.
struct OrderIndex: Sendable {
    private var keys: ContiguousArray<UInt64>
    private var values: ContiguousArray<Int32>
    private var shift: UInt64
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = ContiguousArray(repeating: 0, count: size)
        values = ContiguousArray(repeating: -1, count: size)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    @inline(__always) private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot of `key`, or -1.
    @inline(__always) func find(_ key: UInt64) -> Int32 {
        var bucket = home(key)
        while true {
            let value = values[bucket]
            if value < 0 { return -1 }
            if keys[bucket] == key { return value }
            bucket = (bucket &+ 1) & mask
        }
    }

    /// Inserts a key that is not present.
    mutating func insert(_ key: UInt64, _ value: Int32) {
        if (count + 1) * 2 > values.count { grow() }
        var bucket = home(key)
        while values[bucket] >= 0 { bucket = (bucket &+ 1) & mask }
        keys[bucket] = key
        values[bucket] = value
        count += 1
    }

    /// Removes `key` if present.
    mutating func remove(_ key: UInt64) {
        var bucket = home(key)
        while true {
            if values[bucket] < 0 { return }
            if keys[bucket] == key { break }
            bucket = (bucket &+ 1) & mask
        }
        count -= 1
        // Backward-shift: pull later members of the probe run into the hole so lookups never need tombstones.
        var hole = bucket
        var next = (hole &+ 1) & mask
        while values[next] >= 0 {
            let ideal = home(keys[next])
            // Move `next` into `hole` unless its ideal bucket lies cyclically in (hole, next].
            let distanceToNext = (next &- ideal) & mask
            let distanceToHole = (hole &- ideal) & mask
            if distanceToHole < distanceToNext {
                keys[hole] = keys[next]
                values[hole] = values[next]
                hole = next
            }
            next = (next &+ 1) & mask
        }
        values[hole] = -1
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let size = values.count * 2
        keys = ContiguousArray(repeating: 0, count: size)
        values = ContiguousArray(repeating: -1, count: size)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
        count = 0
        for i in 0..<oldValues.count where oldValues[i] >= 0 { insert(oldKeys[i], oldValues[i]) }
    }
}
