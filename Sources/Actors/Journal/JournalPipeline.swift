import Storage
import Trading

/// The journal of one shard as its actor sees it: records get consecutive sequence numbers in the
/// order the actor applied them, and at most one append is in flight — records that arrive meanwhile
/// form the next batch. The store group-commits the batches of all shards into shared round trips.
///
/// No task is spawned: the caller whose record starts a batch performs the append, and when it is
/// done it hands the turn to the first waiter of the next batch.
public struct JournalPipeline: Sendable {
    enum Turn: Sendable {
        case committed
        case flush
    }

    public let shard: String
    public internal(set) var epoch: Int64
    /// Sequence of the last record handed to the pipeline.
    public internal(set) var lastSequence: Int64
    /// Sequence of the last durable record.
    public internal(set) var durableSequence: Int64
    var pending: [JournalRecord] = []
    var waiters: [Int64: CheckedContinuation<Turn, any Error>] = [:]
    var flushing = false
    /// Set when an append failed: memory is ahead of the journal and the shard must be reloaded.
    public internal(set) var broken: (any Error)?

    public init(shard: String, epoch: Int64, lastSequence: Int64) {
        self.shard = shard
        self.epoch = epoch
        self.lastSequence = lastSequence
        durableSequence = lastSequence
    }

    mutating func enqueue(_ payload: [UInt8]) -> Int64 {
        lastSequence += 1
        pending.append(JournalRecord(shard: shard, epoch: epoch, sequence: lastSequence, payload: payload))
        return lastSequence
    }
}

/// An actor that owns a shard: it applies a command to its state, then journals it here.
public protocol JournalingActor: Actor {
    var journal: JournalPipeline { get set }
    var store: any JournalStore { get }
    /// Runs after a batch is durable and before its callers are answered (in journal order).
    func didCommit(through sequence: Int64) async
}

extension JournalingActor {
    /// Journals `payload` and returns once it is durable.
    ///
    /// - Throws: `BourseError(.unavailable)` when the shard's journal has failed (the store error is
    ///   logged by the caller); the command's effect must then not be acknowledged.
    public func commit(_ payload: [UInt8]) async throws {
        if let broken = journal.broken { throw unavailable(broken) }
        let sequence = journal.enqueue(payload)
        if journal.flushing {
            let turn = try await withCheckedThrowingContinuation { journal.waiters[sequence] = $0 }
            if case .committed = turn { return }
        } else {
            journal.flushing = true
        }
        // This caller flushes: everything pending, its own record included.
        let batch = journal.pending
        journal.pending.removeAll(keepingCapacity: true)
        do {
            try await store.append(batch)
        } catch {
            journal.broken = error
            journal.flushing = false
            let failed = journal.waiters
            journal.waiters.removeAll()
            for (_, waiter) in failed { waiter.resume(throwing: unavailable(error)) }
            throw unavailable(error)
        }
        let through = batch.last?.sequence ?? journal.durableSequence
        journal.durableSequence = through
        await didCommit(through: through)
        for record in batch where record.sequence != sequence {
            journal.waiters.removeValue(forKey: record.sequence)?.resume(returning: .committed)
        }
        if let next = journal.pending.first, let waiter = journal.waiters.removeValue(forKey: next.sequence) {
            waiter.resume(returning: .flush)
        } else {
            journal.flushing = false
        }
    }

    private func unavailable(_ error: any Error) -> BourseError {
        BourseError(.unavailable, "\(journal.shard) is recovering from a journal failure")
    }
}
