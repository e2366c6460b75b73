import Metrics
import Synchronization

/// Group commit: turns many concurrent `append` calls into few database round trips.
///
/// `submit` queues a caller's records and suspends it. One writer loop (`run(writer:)`, started by the
/// store's `run()`) takes everything queued — from all callers, up to `maxBatchRecords` — hands it to the
/// store's batch writer, which writes it in one round trip, and resumes every caller with its own outcome.
/// While a batch is in flight new calls queue up for the next one, so the busier the node, the larger the
/// batches. Both stores share this type; only the batch writer differs.
///
/// A call's records are never split across batches, and two calls that write the same (shard, sequence)
/// never share a batch (the later one waits for the next), so a batch writer can treat each call as a unit.
///
/// A call may name prerequisites (`submit(_:after:)`): records of other calls it must not be committed
/// without. It is taken into a batch only once they are committed, or into the batch that carries them when
/// the writer refuses a dependent together with its refused prerequisite (`run(dependentWriter:)`); it fails
/// when one of them cannot be committed any more (its call failed, or its shard was abandoned at that epoch).
///
/// A call may also say that other calls will name its records as prerequisites (`awaitingDependents`, a
/// reservation that the book's record of its order will follow): it then waits up to `dependentWait` for one of
/// them to be queued, so that both share one batch — one durable round trip per order instead of two in turn.
public final class GroupCommitter: Sendable {
    /// Writes one batch (one call's records per element) in one round trip and returns one outcome per
    /// call, in order: `nil` when that call's records are committed, else the error for that call. Throwing
    /// fails the whole batch with `StorageError.unavailable`.
    public typealias BatchWriter = @Sendable ([[JournalRecord]]) async throws -> [StorageError?]

    /// A call of a batch that depends on another call of the same batch (indices into the batch).
    public struct Dependency: Sendable, Hashable {
        public var dependent: Int
        public var prerequisite: Int
    }

    /// A `BatchWriter` that is also told which calls of the batch depend on which: it must refuse a dependent
    /// whose prerequisite it refuses, in the same transaction.
    public typealias DependentBatchWriter =
        @Sendable ([[JournalRecord]], [Dependency]) async throws -> [StorageError?]

    /// Counters of the writer loop, for tests and metrics.
    public struct Statistics: Sendable, Hashable {
        /// Batches written: one database round trip each.
        public var batches = 0
        /// Records in those batches (committed or refused).
        public var records = 0
        /// The most records one batch carried.
        public var largestBatch = 0
    }

    private struct Pending: Sendable {
        var records: [JournalRecord]
        /// The distinct shards of `records`.
        var shards: [String]
        var prerequisites: [JournalPosition]
        var continuation: CheckedContinuation<Void, any Error>
        /// Until when the call waits for a dependent to be queued, unless one is (nil: it does not wait).
        var waitsUntil: ContinuousClock.Instant?
    }

    private struct ShardEpoch: Hashable {
        var shard: String
        var epoch: Int64
    }

    private enum Phase: Sendable {
        case notStarted, running, stopped
    }

    private struct State: Sendable {
        var queue: [Pending] = []
        var phase = Phase.notStarted
        /// `shutdown()` was called: drain the queue, then stop; refuse new calls.
        var closing = false
        /// The task running the loop was cancelled: stop now, fail what is queued.
        var cancelled = false
        /// Loops waiting for work.
        var loopWaiters: [CheckedContinuation<Turn, Never>] = []
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        /// Shards written by the batches in flight (never two batches for one shard: see `takeBatch`).
        var inFlight: Set<String> = []
        /// Per shard, the epoch of its latest committed call and the sequence committed through at that epoch.
        var committed: [String: (epoch: Int64, through: Int64)] = [:]
        /// Journals that will commit nothing more: a call of theirs failed, or they were abandoned.
        var failed: Set<ShardEpoch> = []
        /// Whether the writer refuses a dependent with its prerequisite (else a dependent waits for its
        /// prerequisites to be committed).
        var writerTakesDependencies = false
        /// Whether a task will wake the loops when the earliest call waiting for a dependent stops waiting.
        var dependentWaitTimerSet = false
        var statistics = Statistics()

        /// Takes the waiting loops to wake.
        mutating func takeLoopWaiters() -> [CheckedContinuation<Turn, Never>] {
            defer { loopWaiters = [] }
            return loopWaiters
        }

        enum Standing {
            case committed, failed, pending
        }

        /// Whether the record at `position` is committed, will never be (its journal failed or was abandoned,
        /// or its shard has committed at a later epoch since, which refuses that epoch's writes), or may still be.
        func standing(of position: JournalPosition) -> Standing {
            if let last = committed[position.shard] {
                if last.epoch == position.epoch && last.through >= position.sequence { return .committed }
                if last.epoch > position.epoch { return .failed }
            }
            return failed.contains(ShardEpoch(shard: position.shard, epoch: position.epoch)) ? .failed : .pending
        }

        /// Notes the outcome of a call's records for the calls that depend on them.
        mutating func record(_ records: [JournalRecord], committed isCommitted: Bool) {
            for record in records {
                guard isCommitted else {
                    failed.insert(ShardEpoch(shard: record.shard, epoch: record.epoch))
                    continue
                }
                switch committed[record.shard] {
                case .some(let last) where last.epoch > record.epoch:
                    continue
                case .some(let last) where last.epoch == record.epoch:
                    committed[record.shard] = (record.epoch, max(last.through, record.sequence))
                default:
                    committed[record.shard] = (record.epoch, record.sequence)
                }
            }
        }
    }

    private struct Key: Hashable {
        var shard: String
        var sequence: Int64
    }

    private let state = Mutex(State())

    /// The most records one round trip carries (a single larger call still goes alone, unsplit).
    public let maxBatchRecords: Int
    /// The most batches in flight at once (writer loops).
    public let maxConcurrentBatches: Int

    /// The longest a call `awaitingDependents` is held back for a dependent to share its batch.
    public let dependentWait: Duration

    public init(maxBatchRecords: Int = 2_000, maxConcurrentBatches: Int = 1, dependentWait: Duration = .zero) {
        self.maxBatchRecords = max(1, maxBatchRecords)
        self.maxConcurrentBatches = max(1, maxConcurrentBatches)
        self.dependentWait = max(.zero, dependentWait)
    }

    /// The counters so far.
    public var statistics: Statistics {
        state.withLock { $0.statistics }
    }

    /// Queues `records` for the next batch and returns once they are committed.
    ///
    /// Waits for the loop: until `run(writer:)` is running, calls stay queued. Cancelling the caller does not
    /// withdraw its records (they may already be on their way to the database).
    ///
    /// - Throws: the batch writer's error for this call; `StorageError.sequenceConflict` when the call
    ///   itself repeats a (shard, sequence); `StorageError.unavailable` after `shutdown()` or when the
    ///   round trip failed (the records may or may not be committed then).
    public func submit(_ records: [JournalRecord]) async throws {
        try await submit(records, after: [])
    }

    /// `submit`, committing `records` only with or after the records of `prerequisites` (see the type's
    /// documentation).
    ///
    /// - Parameters:
    ///   - awaitingDependents: other calls will name these records as prerequisites: wait up to
    ///     `dependentWait` for one to be queued, and share its batch.
    /// - Throws: as `submit`; `StorageError.unavailable` when a prerequisite cannot be committed any more.
    public func submit(
        _ records: [JournalRecord], after prerequisites: [JournalPosition], awaitingDependents: Bool = false
    ) async throws {
        guard !records.isEmpty else { return }
        let waitsUntil = awaitingDependents && dependentWait > .zero ? ContinuousClock.now + dependentWait : nil
        var keys = Set<Key>()
        var shards: [String] = []
        for record in records {
            guard keys.insert(Key(shard: record.shard, sequence: record.sequence)).inserted else {
                throw StorageError(
                    .sequenceConflict, "sequence \(record.sequence) of \(record.shard) repeated in one append")
            }
            if !shards.contains(record.shard) { shards.append(record.shard) }
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Turn, Never>?) in
                guard state.phase != .stopped, !state.closing else { return (false, nil) }
                state.queue.append(
                    Pending(
                        records: records, shards: shards, prerequisites: prerequisites, continuation: continuation,
                        waitsUntil: waitsUntil))
                return (true, state.loopWaiters.popLast())
            }
            if accepted {
                waiter?.resume(returning: .lookAgain)
            } else {
                continuation.resume(throwing: Self.shutDownError)
            }
        }
    }

    /// Time of one batch's database round trip (the write and its commit).
    static let commitLatency = Metrics.Timer(label: "bourse_journal_commit_latency")
    /// Records per batch.
    static let batchRecords = Recorder(label: "bourse_journal_batch_records", aggregate: true)

    /// Says that `shard`'s journal at `epoch` will submit nothing more: calls waiting for its records fail.
    public func abandon(shard: String, epoch: Int64) {
        let waiters = state.withLock { state -> [CheckedContinuation<Turn, Never>] in
            guard state.failed.insert(ShardEpoch(shard: shard, epoch: epoch)).inserted else { return [] }
            return state.takeLoopWaiters()
        }
        for waiter in waiters { waiter.resume(returning: .lookAgain) }
    }

    /// Runs `maxConcurrentBatches` writer loops until `shutdown()` (after draining the queue) or until the task
    /// is cancelled (what is queued then fails with `StorageError.unavailable`). Returns at once if already run.
    /// A call with prerequisites waits for them to be committed (the writer is not told of dependencies).
    public func run(writer: @escaping BatchWriter) async {
        await run(batchWriter: { requests, _ in try await writer(requests) }, takesDependencies: false)
    }

    /// `run(writer:)` with a writer that refuses a dependent together with its prerequisite, so that a call
    /// may share the batch of its prerequisites.
    public func run(dependentWriter: @escaping DependentBatchWriter) async {
        await run(batchWriter: dependentWriter, takesDependencies: true)
    }

    private func run(batchWriter writer: @escaping DependentBatchWriter, takesDependencies: Bool) async {
        let started = state.withLock { state -> Bool in
            guard state.phase == .notStarted else { return false }
            state.phase = .running
            state.writerTakesDependencies = takesDependencies
            return true
        }
        guard started else { return }
        await withDiscardingTaskGroup { group in
            for _ in 1..<maxConcurrentBatches {
                group.addTask { await self.writeLoop(writer) }
            }
            await writeLoop(writer)
        }
        let (leftover, stopWaiters) = state.withLock { state in
            state.phase = .stopped
            defer {
                state.queue = []
                state.stopWaiters = []
            }
            return (state.queue, state.stopWaiters)
        }
        for pending in leftover {
            pending.continuation.resume(throwing: Self.shutDownError)
        }
        for waiter in stopWaiters {
            waiter.resume()
        }
    }

    /// One writer loop: takes a batch, writes it, answers its callers, until the committer stops.
    private func writeLoop(_ writer: DependentBatchWriter) async {
        while let (batch, dependencies) = await nextBatch() {
            let requests = batch.map(\.records)
            var outcomes: [StorageError?]
            let writeStarted = ContinuousClock.now
            do {
                outcomes = try await writer(requests, dependencies)
            } catch let error as StorageError {
                outcomes = Array(repeating: error, count: batch.count)
            } catch {
                let failure = StorageError(.unavailable, "journal batch failed: \(type(of: error))")
                outcomes = Array(repeating: failure, count: batch.count)
            }
            if outcomes.count != batch.count {
                let failure = StorageError(
                    .corrupt, "journal batch writer answered \(outcomes.count) of \(batch.count)")
                outcomes = Array(repeating: failure, count: batch.count)
            }
            let recordCount = requests.reduce(0) { $0 + $1.count }
            GroupCommitter.commitLatency.record(duration: ContinuousClock.now - writeStarted)
            GroupCommitter.batchRecords.record(recordCount)
            // The batch's shards are free again before its callers hear of it: a caller's next call may be
            // taken at once.
            let waiters = state.withLock { state -> [CheckedContinuation<Turn, Never>] in
                state.statistics.batches += 1
                state.statistics.records += recordCount
                state.statistics.largestBatch = max(state.statistics.largestBatch, recordCount)
                for (pending, outcome) in zip(batch, outcomes) {
                    state.inFlight.subtract(pending.shards)
                    state.record(pending.records, committed: outcome == nil)
                }
                // Calls this batch held back may be taken by another loop, or fail with its failed calls; a
                // closing committer's idle loops must see whether anything is left.
                return state.queue.isEmpty && !state.closing ? [] : state.takeLoopWaiters()
            }
            for (pending, outcome) in zip(batch, outcomes) {
                if let outcome {
                    pending.continuation.resume(throwing: outcome)
                } else {
                    pending.continuation.resume()
                }
            }
            for waiter in waiters { waiter.resume(returning: .lookAgain) }
        }
    }

    /// Refuses new calls and lets the loop commit what is queued and stop; returns at once. When the loop
    /// never ran, queued calls fail with `StorageError.unavailable`.
    public func beginShutdown() {
        let (leftover, loopWaiters) = state.withLock { state -> ([Pending], [CheckedContinuation<Turn, Never>]) in
            state.closing = true
            switch state.phase {
            case .stopped:
                return ([], [])
            case .notStarted:
                state.phase = .stopped
                defer { state.queue = [] }
                return (state.queue, [])
            case .running:
                return ([], state.takeLoopWaiters())
            }
        }
        for pending in leftover {
            pending.continuation.resume(throwing: Self.shutDownError)
        }
        for waiter in loopWaiters { waiter.resume(returning: .lookAgain) }
    }

    /// `beginShutdown()`, then waits until the loop has stopped.
    public func shutdown() async {
        beginShutdown()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = state.withLock { state -> Bool in
                guard state.phase != .stopped else { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    private static let shutDownError = StorageError(.unavailable, "the journal store is shut down")

    /// What a writer loop is handed: a batch to write, or the word to stop or to look at the queue again.
    private enum Turn: Sendable {
        case write([Pending], [Dependency])
        case stop
        case lookAgain
    }

    /// The next batch and its calls' dependencies on one another, waiting for work; `nil` when the loop must stop.
    private func nextBatch() async -> ([Pending], [Dependency])? {
        while true {
            let cancelled = Task.isCancelled
            let turn = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
                    // Taken or waited for under one lock: a call queued meanwhile wakes this loop.
                    let (turn, refused) = state.withLock { state -> (Turn?, [Pending]) in
                        if cancelled { state.cancelled = true }
                        if state.cancelled { return (.stop, []) }
                        var (batch, dependencies, refused, waitEnds) = takeBatch(&state)
                        if let waitEnds, !state.dependentWaitTimerSet {
                            state.dependentWaitTimerSet = true
                            wakeLoops(at: waitEnds)
                        }
                        if !batch.isEmpty { return (.write(batch, dependencies), refused) }
                        if state.closing && state.inFlight.isEmpty {
                            // Nothing new comes in and nothing is being written: what is left waits for
                            // prerequisites that will never come.
                            refused += state.queue
                            state.queue = []
                            return (.stop, refused)
                        }
                        state.loopWaiters.append(continuation)
                        return (nil, refused)
                    }
                    for pending in refused { pending.continuation.resume(throwing: Self.prerequisiteError) }
                    if let turn { continuation.resume(returning: turn) }
                }
            } onCancel: {
                let waiters = state.withLock { state -> [CheckedContinuation<Turn, Never>] in
                    state.cancelled = true
                    return state.takeLoopWaiters()
                }
                for waiter in waiters { waiter.resume(returning: .lookAgain) }
            }
            switch turn {
            case .write(let batch, let dependencies): return (batch, dependencies)
            case .stop: return nil
            case .lookAgain: continue
            }
        }
    }

    /// Wakes the idle loops at `deadline`, when a call stops waiting for its dependents.
    private func wakeLoops(at deadline: ContinuousClock.Instant) {
        Task {
            try? await Task.sleep(until: deadline)
            let waiters = state.withLock { state -> [CheckedContinuation<Turn, Never>] in
                state.dependentWaitTimerSet = false
                return state.takeLoopWaiters()
            }
            for waiter in waiters { waiter.resume(returning: .lookAgain) }
        }
    }

    /// What a call is told when a record it depends on was not journaled.
    public static let prerequisiteError = StorageError(.unavailable, "a record this one depends on was not journaled")

    /// Takes calls in queue order up to `maxBatchRecords` and marks their shards in flight. A call is left
    /// for a later batch when it writes a shard of a batch in flight or of a call left before it (so a shard's
    /// calls keep their order), or a (shard, sequence) an earlier call of this batch writes, or while one of its
    /// prerequisites is neither committed nor in this batch (then the queue is looked at again: a call is often
    /// queued before the one it depends on), or while it waits for a dependent that is not queued yet. Also
    /// returns the calls refused because a prerequisite failed, and when the first call left waiting for a
    /// dependent stops waiting.
    private func takeBatch(_ state: inout State)
        -> ([Pending], [Dependency], [Pending], ContinuousClock.Instant?)
    {
        guard !state.queue.isEmpty else { return ([], [], [], nil) }
        var batch: [Pending] = []
        var dependencies: [Dependency] = []
        var refused: [Pending] = []
        var keys = Set<Key>()
        /// The call of this batch that writes each position.
        var positions: [JournalPosition: Int] = [:]
        /// The calls of this batch that depend on another of its calls.
        var dependents = Set<Int>()
        var count = 0
        var remaining = state.queue
        var progressed = true
        /// The positions queued calls name as prerequisites: a call waiting for a dependent goes once it is here.
        var wanted: Set<JournalPosition>?
        var waitEnds: ContinuousClock.Instant?
        let now = ContinuousClock.now
        while progressed && !remaining.isEmpty {
            progressed = false
            var held = Set<String>()
            var rest: [Pending] = []
            for pending in remaining {
                let free = pending.shards.allSatisfy { !state.inFlight.contains($0) && !held.contains($0) }
                let fits =
                    count < maxBatchRecords && (batch.isEmpty || count + pending.records.count <= maxBatchRecords)
                let callKeys = free && fits ? pending.records.map { Key(shard: $0.shard, sequence: $0.sequence) } : []
                guard free, fits, keys.isDisjoint(with: callKeys) else {
                    held.formUnion(pending.shards)
                    rest.append(pending)
                    continue
                }
                if let until = pending.waitsUntil, now < until, !state.closing {
                    if wanted == nil { wanted = Set(state.queue.lazy.flatMap(\.prerequisites)) }
                    if let wanted, !pending.records.contains(where: { wanted.contains($0.position) }) {
                        waitEnds = min(waitEnds ?? until, until)
                        held.formUnion(pending.shards)
                        rest.append(pending)
                        continue
                    }
                }
                var inBatch: [Int] = []
                var ready = true
                var failed = false
                for prerequisite in pending.prerequisites {
                    switch state.standing(of: prerequisite) {
                    case .committed: continue
                    case .failed: failed = true
                    case .pending:
                        // In this batch, if the writer is told (one level: not a call that depends on another).
                        let call = state.writerTakesDependencies ? positions[prerequisite] : nil
                        if let call, !dependents.contains(call) {
                            inBatch.append(call)
                        } else {
                            ready = false
                        }
                    }
                }
                if failed {
                    held.formUnion(pending.shards)
                    refused.append(pending)
                    progressed = true
                } else if ready {
                    let index = batch.count
                    for record in pending.records { positions[record.position] = index }
                    for call in Set(inBatch) { dependencies.append(Dependency(dependent: index, prerequisite: call)) }
                    if !inBatch.isEmpty { dependents.insert(index) }
                    keys.formUnion(callKeys)
                    count += pending.records.count
                    batch.append(pending)
                    progressed = true
                } else {
                    held.formUnion(pending.shards)
                    rest.append(pending)
                }
            }
            remaining = rest
        }
        state.queue = remaining
        for pending in batch { state.inFlight.formUnion(pending.shards) }
        for pending in refused { state.record(pending.records, committed: false) }
        return (batch, dependencies, refused, waitEnds)
    }
}
