/// The ring's fixed 64-bit hash: the same value for the same text on every node, process and platform.
///
/// Swift's `Hasher` is seeded per process, so two nodes would place shards differently. This is
/// FNV-1a 64 over the UTF-8 bytes, finished with the SplitMix64 finaliser (FNV-1a alone mixes its high
/// bits poorly for short keys such as `bourse-7`). Changing either function moves shards between
/// nodes in a running cluster: the test vectors in `StableHashTests` pin both.
public enum StableHash {
    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    /// The hash of a shard key or a member id.
    public static func hash(_ text: String) -> UInt64 {
        var state = fnvOffset
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* fnvPrime }
        return mix(state)
    }

    /// SplitMix64's finaliser: a bijection on 64-bit words with full avalanche.
    @inline(__always)
    public static func mix(_ word: UInt64) -> UInt64 {
        var z = word
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The rendezvous weight of a member for a shard, from their hashes: the member with the highest
    /// weight is the shard's first choice, the next highest its second, and so on.
    @inline(__always)
    public static func weight(shard: UInt64, member: UInt64) -> UInt64 {
        mix(shard ^ (member &* 0x9E37_79B9_7F4A_7C15))
    }
}
