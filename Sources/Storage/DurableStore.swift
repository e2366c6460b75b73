import ServiceLifecycle
import Trading

/// A database-backed `JournalStore`, `UserStore`, `ReadModelStore` and `MembershipStore` with background
/// work: the group-commit loop (and, on PostgreSQL, the connection pool).
///
/// A store is a swift-service-lifecycle `Service`: the node runs `run()` in a long-lived task (or a
/// `ServiceGroup`), then calls `migrate()`. Appends complete only while `run()` is running. `shutdown()`, or
/// a graceful shutdown of the service, commits what is queued and makes `run()` return; cancelling the task
/// that runs `run()` stops at once and fails what is queued. In a `ServiceGroup`, list the store before the
/// services that append, so that it is shut down after them (groups shut down in reverse order).
public protocol DurableStore: JournalStore, UserStore, ReadModelStore, MembershipStore, Service {
    /// Runs the background work until `shutdown()`, graceful shutdown or cancellation. Only the first call
    /// does anything.
    func run() async

    /// The group-commit counters: batches (round trips) and records written so far.
    var commitStatistics: GroupCommitter.Statistics { get }
}

extension DurableStore {
    /// Journal batches written so far, one database round trip each.
    public var batchesCommitted: Int { commitStatistics.batches }
}

/// `now + ttl`, saturating instead of overflowing.
func leaseExpiry(nowMillis: Int64, ttlMillis: Int64) -> Int64 {
    let (sum, overflow) = nowMillis.addingReportingOverflow(max(0, ttlMillis))
    return overflow ? Int64.max : sum
}

/// A user id read from the database.
func storedUserID(_ id: Int64) throws -> UserID {
    guard let userID = UserID(exactly: id) else { throw StorageError(.corrupt, "user id \(id) is negative") }
    return userID
}
