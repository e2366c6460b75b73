import Synchronization

/// The shards whose journal failed on this node, reported by their actors so that they are reloaded at a new
/// epoch: a shard whose append failed has state in memory that the store may never hold, so it refuses every
/// command (503) until a fresh actor has recovered it from the store. A node alone, or the active node of
/// active/standby, reloads them itself (`Exchange+Repair.swift`); a cluster that routes by shard hands them off
/// and takes them again through its shard ownership.
public final class JournalFailures: Sendable {
    private let failed = Mutex<[String: Int64]>([:])

    public init() {}

    /// Notes that `shard`'s journal at `epoch` failed.
    public func report(shard: String, epoch: Int64) {
        failed.withLock { $0[shard] = max($0[shard] ?? epoch, epoch) }
    }

    /// The failures reported since the last call: the epoch each shard failed at.
    public func take() -> [String: Int64] {
        failed.withLock { failed in
            defer { failed.removeAll() }
            return failed
        }
    }
}
