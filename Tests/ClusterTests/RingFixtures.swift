import Cluster

/// Shard keys, member ids and a seeded generator for the ring tests.
enum RingFixtures {
    /// Bourse's shards: 1,024 account shards, then symbol shards up to `count`.
    static func shards(_ count: Int = 10_000) -> [String] {
        let accounts = (0..<min(count, 1_024)).map { "accounts/" + padded($0, 4) }
        let symbols = (0..<max(0, count - 1_024)).map { "symbol/S" + padded($0 + 1, 5) + "-USD" }
        return accounts + symbols
    }

    /// `bourse-0`…: the pod names of a StatefulSet.
    static func pods(_ count: Int) -> [String] { (0..<count).map { "bourse-\($0)" } }

    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// SplitMix64, so every run of the tests makes the same membership changes.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return StableHash.mix(state)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// An arbitrary member id (not a pod name).
    mutating func memberID() -> String { "node-" + String(next(), radix: 16) }
}
