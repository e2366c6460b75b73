import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import Trading

/// Writes the read models in the background: the node-wide sink of every account shard's `ProjectionBatch`.
///
/// `enqueue` never waits: it merges the batch into what is pending for its shard under a lock and returns,
/// so the command path never waits for the read models. One loop (`run()`, a swift-service-lifecycle
/// service) takes what is pending — the batches of many shards — and writes it with one
/// `ReadModelStore.project` call, one transaction; batches that arrive meanwhile wait for the next one, so
/// the busier the node, the larger the transactions. Transactions start at most every `interval`, so that
/// on a busy node the read models take few of the database's writes (SQLite has a single writer, shared
/// with the journal) and batches coalesce more.
///
/// Memory stays bounded by the data, not by the backlog: pending order, wallet and holding rows are kept
/// per key, so a writer that falls behind holds only the newest row of each (trade and transaction rows,
/// which are history, are all kept). When a write fails, its rows go back under the newer ones and the loop
/// retries after a pause. Graceful shutdown writes what is pending, then `run()` returns; cancellation
/// stops at once (a shard's offset then stays behind its journal, and the shard projects its users again at
/// its next start).
public final class ProjectionWriter: Service, Sendable {
    /// Counters of the loop, for tests and metrics.
    public struct Statistics: Sendable, Hashable {
        /// Batches handed to `enqueue`.
        public var batchesEnqueued = 0
        /// `project` calls that committed: one transaction each.
        public var transactions = 0
        /// Rows those transactions carried.
        public var rowsWritten = 0
        /// `project` calls that failed (their rows were kept and retried).
        public var failures = 0
        /// Rows waiting for the next transaction.
        public var pendingRows = 0
        /// Rows dropped because their shard's lease epoch had moved on (another owner writes them now).
        public var rowsFenced = 0
    }

    private enum Phase: Sendable {
        case notStarted, running, stopped
    }

    private struct State: Sendable {
        var pending: [String: ProjectionAccumulator] = [:]
        /// Shards with pending rows, oldest first (the order they are written in).
        var queue: [String] = []
        var phase = Phase.notStarted
        var closing = false
        var cancelled = false
        var loopWaiter: CheckedContinuation<Void, Never>?
        var statistics = Statistics()

        mutating func wakeLoop() -> CheckedContinuation<Void, Never>? {
            defer { loopWaiter = nil }
            return loopWaiter
        }
    }

    /// The store written to.
    public let store: any ReadModelStore
    /// Rows above which a transaction takes no further shard (one shard's rows always go whole).
    public let maxRowsPerTransaction: Int
    /// The least time between the starts of two transactions.
    public let interval: Duration
    private let retryDelay: Duration
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - store: where the read models live.
    ///   - maxRowsPerTransaction: soft cap of one transaction's rows.
    ///   - interval: the least time between the starts of two transactions (the read models' lag on a busy
    ///     node). At 20 ms a PostgreSQL node at ~2,000 orders/s spent as much of the database's CPU on the read
    ///     models as on the journal, whose round trips every order waits for; at 100 ms the statements are five
    ///     times fewer and coalesce more rows (BENCHMARKS.md, "Durable order placement"). The API answers from
    ///     the actors, so only history and the operators' tables lag.
    ///   - retryDelay: the first pause after a failed write; it doubles up to 5 seconds.
    public init(
        store: any ReadModelStore, maxRowsPerTransaction: Int = 20_000, interval: Duration = .milliseconds(100),
        retryDelay: Duration = .milliseconds(200), logger: Logger = Logger(label: "bourse.projection")
    ) {
        self.store = store
        self.maxRowsPerTransaction = max(1, maxRowsPerTransaction)
        self.interval = interval
        self.retryDelay = retryDelay
        self.logger = logger
    }

    /// The counters so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Queues a batch for the next transaction and returns at once. After `run()` has returned, batches are
    /// dropped (the shards re-project at their next start).
    public func enqueue(_ batch: ProjectionBatch) {
        guard !batch.isEmpty else { return }
        // One accumulator per shard and epoch: rows of a deposed epoch never ride with a current one.
        let key = batch.offsets.count == 1 ? "\(batch.offsets.keys.first!)#\(batch.epochs.values.first ?? 0)" : "*"
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.phase != .stopped else { return nil }
            state.statistics.batchesEnqueued += 1
            let before = state.pending[key]?.rowCount ?? 0
            if state.pending[key] == nil { state.queue.append(key) }
            state.pending[key, default: ProjectionAccumulator()].add(batch)
            state.statistics.pendingRows += state.pending[key]!.rowCount - before
            return state.wakeLoop()
        }
        waiter?.resume()
    }

    /// The journal sequence through which `shard`'s rows are written, as the store has it.
    public func projectionOffset(shard: String) async throws -> Int64 {
        try await store.projectionOffset(shard: shard)
    }

    /// Writes until graceful shutdown (then writes what is pending and returns) or cancellation. Only the
    /// first call does anything.
    public func run() async {
        let started = state.withLock { state -> Bool in
            guard state.phase == .notStarted else { return false }
            state.phase = .running
            return true
        }
        guard started else { return }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await loop()
            } onCancel: {
                let waiter = state.withLock { state in
                    state.cancelled = true
                    return state.wakeLoop()
                }
                waiter?.resume()
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        state.withLock { state in
            state.phase = .stopped
            state.pending = [:]
            state.queue = []
            state.statistics.pendingRows = 0
        }
    }

    /// Lets the loop write what is pending and return; returns at once.
    public func beginShutdown() {
        let waiter = state.withLock { state in
            state.closing = true
            return state.wakeLoop()
        }
        waiter?.resume()
    }

    private enum Step {
        case write([String: ProjectionAccumulator], [String])
        case wait
        case stop
    }

    private func loop() async {
        var failures = 0
        while true {
            let step = state.withLock { state -> Step in
                if state.cancelled { return .stop }
                guard !state.queue.isEmpty else { return state.closing ? .stop : .wait }
                var taken: [String: ProjectionAccumulator] = [:]
                var rows = 0
                var count = 0
                for key in state.queue {
                    guard rows < maxRowsPerTransaction else { break }
                    let accumulator = state.pending.removeValue(forKey: key)!
                    rows += accumulator.rowCount
                    taken[key] = accumulator
                    count += 1
                }
                let keys = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                StorageMetrics.projectionPendingRows.record(state.statistics.pendingRows)
                state.statistics.pendingRows -= rows
                return .write(taken, keys)
            }
            switch step {
            case .stop:
                return
            case .wait:
                await waitForWork()
            case .write(let taken, let keys):
                var batch = ProjectionBatch()
                for key in keys { batch.append(taken[key]!.batch()) }
                let started = ContinuousClock.now
                do {
                    try await store.project(batch)
                    failures = 0
                    let closing = state.withLock { state in
                        state.statistics.transactions += 1
                        state.statistics.rowsWritten += batch.rowCount
                        return state.closing
                    }
                    StorageMetrics.projectionRowsWritten.increment(by: batch.rowCount)
                    if !closing { try? await Task.sleep(until: started + interval) }
                } catch let error as StorageError where error.code == .staleEpoch {
                    // Some shard has a new owner: write the others alone, drop the fenced ones.
                    let (written, fenced) = await writeSeparately(taken, keys)
                    logger.warning(
                        "read-model rows of a deposed lease epoch dropped",
                        metadata: ["rows_dropped": "\(fenced)", "rows_written": "\(written)"])
                } catch {
                    failures += 1
                    let closing = putBack(taken, keys)
                    logger.warning(
                        "read models not written; will retry",
                        metadata: ["error": "\(error)", "attempt": "\(failures)", "rows": "\(batch.rowCount)"])
                    if closing, failures >= 3 {
                        logger.error("read models not written at shutdown; shards re-project at their next start")
                        return
                    }
                    let pause = min(retryDelay * (1 << min(failures - 1, 5)), .seconds(5))
                    try? await Task.sleep(for: pause)
                }
            }
        }
    }

    /// After a fenced transaction: each shard's rows in a transaction of its own; fenced ones are dropped,
    /// others that fail are put back. Returns the rows written and dropped.
    private func writeSeparately(_ taken: [String: ProjectionAccumulator], _ keys: [String]) async -> (Int, Int) {
        var written = 0
        var fenced = 0
        for key in keys {
            let batch = taken[key]!.batch()
            do {
                try await store.project(batch)
                written += batch.rowCount
                state.withLock { state in
                    state.statistics.transactions += 1
                    state.statistics.rowsWritten += batch.rowCount
                }
                StorageMetrics.projectionRowsWritten.increment(by: batch.rowCount)
            } catch let error as StorageError where error.code == .staleEpoch {
                fenced += batch.rowCount
                state.withLock { $0.statistics.rowsFenced += batch.rowCount }
            } catch {
                _ = putBack([key: taken[key]!], [key])
            }
        }
        return (written, fenced)
    }

    /// Puts rows that failed back in front of what arrived since (newer rows win); returns whether the
    /// writer is shutting down.
    private func putBack(_ taken: [String: ProjectionAccumulator], _ keys: [String]) -> Bool {
        StorageMetrics.projectionFailures.increment()
        return state.withLock { state in
            state.statistics.failures += 1
            var requeued: [String] = []
            for key in keys {
                var accumulator = taken[key]!
                let before = state.pending[key]?.rowCount ?? 0
                if let newer = state.pending.removeValue(forKey: key) {
                    accumulator.add(newer)
                    state.queue.removeAll { $0 == key }
                }
                state.pending[key] = accumulator
                state.statistics.pendingRows += accumulator.rowCount - before
                requeued.append(key)
            }
            state.queue.insert(contentsOf: requeued, at: 0)
            return state.closing
        }
    }

    private func waitForWork() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.cancelled || state.closing || !state.queue.isEmpty { return true }
                state.loopWaiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
