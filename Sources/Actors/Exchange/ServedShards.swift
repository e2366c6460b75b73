import Synchronization

/// The shards an exchange serves right now, read on every routed command (a lock and a set lookup).
///
/// Every shard (`nil`: a node alone, or the active node of active/standby), a fixed subset
/// (`Exchange.Configuration.servedShards`), or — a cluster routing by shard — whatever the node's ownership
/// has taken so far: shards are added once recovered and removed when a handoff starts, so a command that
/// finds its shard here runs on an actor that holds the shard's lease.
final class ServedShards: Sendable {
    private let shards: Mutex<Set<String>?>

    init(_ shards: Set<String>?) { self.shards = Mutex(shards) }

    /// Whether every shard is served here (no other node serves any).
    var isAll: Bool { shards.withLock { $0 == nil } }

    func contains(_ shard: String) -> Bool { shards.withLock { $0?.contains(shard) ?? true } }

    /// Whether account shard `index` is served (its key is spelled only when part of the shards are).
    func contains(account index: Int) -> Bool {
        shards.withLock { shards in shards.map { $0.contains(ShardKey.account(index: index)) } ?? true }
    }

    /// How many shards are served; nil for every shard.
    var count: Int? { shards.withLock { $0?.count } }

    func insert(_ shard: String) { shards.withLock { _ = $0?.insert(shard) } }

    /// Removes the shard; true when it was served.
    @discardableResult
    func remove(_ shard: String) -> Bool { shards.withLock { $0?.remove(shard) != nil } }
}
