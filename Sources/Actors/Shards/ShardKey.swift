import Trading

/// Shard names of design.md: `symbol/BTC-USD` for a market, `accounts/0417` (of `accountShards`) for users.
public enum ShardKey {
    /// Number of account shards; fixed for the life of a cluster (cluster.yaml `account_shards`).
    public static let defaultAccountShards = 1024

    public static func symbol(_ symbol: String) -> String { "symbol/\(symbol)" }

    /// The account shard of a user: a stable hash of the id, so every node agrees.
    public static func accountShardIndex(_ user: UserID, shards: Int) -> Int {
        Int(StateHasher.mix(user) % UInt64(shards))
    }

    public static func account(index: Int) -> String {
        let digits = String(index)
        return "accounts/" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The index of an account shard's key (`accounts/0417` → 417); nil for any other key, or one spelled
    /// otherwise than `account(index:)` spells it.
    public static func accountIndex(of shard: String) -> Int? {
        guard shard.hasPrefix("accounts/"), let index = Int(shard.dropFirst(9)), index >= 0,
            account(index: index) == shard
        else { return nil }
        return index
    }

    /// The market of a symbol shard's key (`symbol/BTC-USD` → `BTC-USD`); nil for any other key.
    public static func symbol(of shard: String) -> String? {
        guard shard.hasPrefix("symbol/"), shard.count > 7 else { return nil }
        return String(shard.dropFirst(7))
    }
}

/// Order ids are unique across the exchange: the account shard that placed the order in the high
/// bits, that shard's order counter in the low 48 bits.
public enum OrderIDs {
    public static func make(shard: Int, counter: UInt64) -> OrderID {
        UInt64(shard) << 48 | (counter & 0xFFFF_FFFF_FFFF)
    }
    public static func shard(of id: OrderID) -> Int { Int(id >> 48) }
}
