import Logging
import Storage
import Trading

/// The journal of one shard as its actor sees it: records get consecutive sequence numbers in the
/// order the actor applied them, and at most one append is in flight — records that arrive meanwhile
/// form the next batch. The store group-commits the batches of all shards into shared round trips.
///
/// No task is spawned per record: the caller whose record starts a batch performs the append, and as soon
/// as the store has committed it hands the turn to a waiter of the next batch, whose append then overlaps
/// this batch's `didCommit` (a book's delivery of its events to the accounts). Only when the next batch
/// holds nobody who waits (records journaled with `journalInBackground`) does one task flush it.
public struct JournalPipeline: Sendable {
    enum Turn: Sendable {
        case committed
        case flush
    }

    public let shard: String
    public internal(set) var epoch: Int64
    /// Sequence of the last record handed to the pipeline.
    public internal(set) var lastSequence: Int64
    /// Sequence of the last durable record whose `didCommit` has run.
    public internal(set) var durableSequence: Int64
    /// Sequence of the last record the store committed (its `didCommit` may still be running).
    var committedSequence: Int64
    var pending: [JournalRecord] = []
    /// Sequences of pending records that other shards' records will name as prerequisites (reservations).
    var awaitedByDependents: Set<Int64> = []
    var waiters: [Int64: CheckedContinuation<Turn, any Error>] = [:]
    /// Callers of `awaitDurable(through:)`, by the sequence they wait for.
    var durabilityWaiters: [(sequence: Int64, continuation: CheckedContinuation<Void, any Error>)] = []
    var flushing = false
    /// Set when an append failed: memory is ahead of the journal and the shard must be reloaded.
    public internal(set) var broken: (any Error)?

    public init(shard: String, epoch: Int64, lastSequence: Int64) {
        self.shard = shard
        self.epoch = epoch
        self.lastSequence = lastSequence
        durableSequence = lastSequence
        committedSequence = lastSequence
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
    var logger: Logger { get }
    /// Where a failed append is reported, so that the shard is reloaded (`nil`: nobody reloads it).
    var journalFailures: JournalFailures? { get }
    /// Runs after a batch is durable and before its callers are answered (in journal order).
    func didCommit(through sequence: Int64) async
    /// How many of the pending records (`journal.pending`, oldest first) may be handed to the store now, and
    /// the records of other shards they may not be committed without (`JournalStore.append(_:after:)`): a
    /// symbol's records depend on the reservations of the orders they book. Waits until at least the first may
    /// go. Throwing fails the batch as a failed append would: the shard's memory is then ahead of what it may
    /// journal.
    func appendable() async throws -> (count: Int, after: [JournalPosition])
}

extension JournalingActor {
    public var journalFailures: JournalFailures? { nil }

    /// Everything pending, depending on nothing: the default.
    public func appendable() async throws -> (count: Int, after: [JournalPosition]) { (journal.pending.count, []) }

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
        try await flush(own: sequence)
    }

    /// Journals `payload` without waiting for it: the record rides in the next batch. For records whose
    /// loss would be repaired anyway (book events, which symbols redeliver after a restart); whoever needs
    /// them durable calls `awaitDurable(through:)` with the returned sequence.
    ///
    /// - Throws: `BourseError(.unavailable)` when the shard's journal has failed.
    /// - Parameter awaitedByDependents: another shard's record will name this one as a prerequisite (a
    ///   reservation): the store may hold it back briefly so that both share a transaction.
    @discardableResult
    public func journalInBackground(_ payload: [UInt8], awaitedByDependents: Bool = false) throws -> Int64 {
        if let broken = journal.broken { throw unavailable(broken) }
        let sequence = journal.enqueue(payload)
        if awaitedByDependents { journal.awaitedByDependents.insert(sequence) }
        if !journal.flushing {
            journal.flushing = true
            Task { await self.flushInBackground() }
        }
        return sequence
    }

    /// Returns once every record up to `sequence` is durable.
    public func awaitDurable(through sequence: Int64) async throws {
        if journal.durableSequence >= sequence { return }
        if let broken = journal.broken { throw unavailable(broken) }
        try await withCheckedThrowingContinuation { journal.durabilityWaiters.append((sequence, $0)) }
    }

    /// Appends what is pending (what `appendable()` allows of it), hands the turn on, then runs `didCommit` and
    /// answers the batch's waiters — or keeps the turn while the record `own` of the calling waiter is not
    /// durable yet.
    ///
    /// The turn goes to the next batch as soon as the store has committed this one, before `didCommit`: the
    /// next append overlaps this batch's delivery rather than queueing behind it. `didCommit` still runs in
    /// journal order (the next batch's runs after this one's: a symbol's deliveries take turns, an account's
    /// does not suspend), and `durableSequence` only moves forward.
    private func flush(own: Int64?) async throws {
        let batch: [JournalRecord]
        do {
            // Only the flusher removes pending records: the head counted is the head taken.
            let (appendable, prerequisites) = try await appendable()
            let count = min(max(appendable, 1), journal.pending.count)
            batch = Array(journal.pending.prefix(count))
            journal.pending.removeFirst(count)
            var awaited = false
            if !journal.awaitedByDependents.isEmpty {
                for record in batch where journal.awaitedByDependents.remove(record.sequence) != nil { awaited = true }
            }
            try await store.append(batch, after: prerequisites, awaitingDependents: awaited)
        } catch {
            journal.broken = error
            journalFailures?.report(shard: journal.shard, epoch: journal.epoch)
            // Records that depend on this journal's pending ones (books' on reservations) must not wait for them.
            store.abandon(shard: journal.shard, epoch: journal.epoch)
            journal.flushing = false
            // Records of an earlier batch are committed: their flusher answers them once its `didCommit` ran.
            let committed = journal.committedSequence
            let failed = journal.waiters.filter { $0.key > committed }
            for sequence in failed.keys { journal.waiters.removeValue(forKey: sequence) }
            for (_, waiter) in failed { waiter.resume(throwing: unavailable(error)) }
            var kept: [(sequence: Int64, continuation: CheckedContinuation<Void, any Error>)] = []
            for waiter in journal.durabilityWaiters {
                if waiter.sequence <= committed {
                    kept.append(waiter)
                } else {
                    waiter.continuation.resume(throwing: unavailable(error))
                }
            }
            journal.durabilityWaiters = kept
            throw unavailable(error)
        }
        let through = batch.last?.sequence ?? journal.committedSequence
        journal.committedSequence = max(journal.committedSequence, through)
        let keepsTurn = own.map { $0 > through } ?? false
        if !keepsTurn { handTurnOn() }
        // `durableSequence` moves only after `didCommit`: whoever sees it has seen its effects too.
        await didCommit(through: through)
        journal.durableSequence = max(journal.durableSequence, through)
        for record in batch where record.sequence != own {
            journal.waiters.removeValue(forKey: record.sequence)?.resume(returning: .committed)
        }
        if !journal.durabilityWaiters.isEmpty {
            var waiting: [(sequence: Int64, continuation: CheckedContinuation<Void, any Error>)] = []
            let durable = journal.durableSequence
            for waiter in journal.durabilityWaiters {
                if waiter.sequence <= durable { waiter.continuation.resume() } else { waiting.append(waiter) }
            }
            journal.durabilityWaiters = waiting
        }
        if keepsTurn, let own {
            // The caller's record was held back for the next batch: it keeps the turn.
            try await flush(own: own)
        }
    }

    /// Gives the next batch's append to a caller waiting in it, or to a task when nobody waits there; ends the
    /// flushing when nothing is pending.
    private func handTurnOn() {
        if journal.pending.isEmpty {
            journal.flushing = false
        } else if let next = journal.pending.first(where: { journal.waiters[$0.sequence] != nil }),
            let waiter = journal.waiters.removeValue(forKey: next.sequence)
        {
            waiter.resume(returning: .flush)
        } else {
            Task { await self.flushInBackground() }
        }
    }

    /// A flush nobody waits for: its failure breaks the shard (later commands get 503) and is logged here.
    private func flushInBackground() async {
        do {
            try await flush(own: nil)
        } catch {
            logger.error(
                "journal append failed; the shard refuses commands until it is recovered",
                metadata: ["shard": "\(journal.shard)", "error": "\(journal.broken.map { "\($0)" } ?? "\(error)")"])
        }
    }

    /// What a caller is told when the journal refuses its record: the shard's own reason when it gave one (a
    /// retired shard: served elsewhere now), else that it is recovering from a failure.
    func unavailable(_ error: any Error) -> BourseError {
        if let reason = error as? BourseError, reason.code == .unavailable { return reason }
        return BourseError(.unavailable, "\(journal.shard) is recovering from a journal failure")
    }
}
