/// A deterministic 64-bit hash of a sequence of words, stable across processes and platforms.
///
/// Swift's `Hasher` is seeded per process, so it cannot compare state across a snapshot, a restart or
/// two implementations. This one mixes each word with a multiply-xorshift step and finishes with the
/// SplitMix64 finaliser.
public struct StateHasher: Sendable {
    private var state: UInt64 = 0x6A09_E667_F3BC_C908

    public init() {}

    @inlinable @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func combine(_ word: UInt64) {
        state = StateHasher.mix(state ^ word) &+ 0x632B_E59B_D9B4_E019
    }

    public mutating func combine(_ word: Int64) { combine(UInt64(bitPattern: word)) }
    public mutating func combine(_ flag: Bool) { combine(flag ? 1 as UInt64 : 0) }

    public var value: UInt64 { StateHasher.mix(state) }
}
