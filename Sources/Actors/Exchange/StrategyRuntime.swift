import Synchronization
import Trading

/// The exchange's side of strategies: the queue through which markets hand over the signals they fire,
/// drained by one long-lived task of the exchange (`Exchange.consumeSignals`), and the strategy creations in
/// flight per user (so that two concurrent creations cannot both take a user's last slot).
///
/// A market never places a signal's order itself: the order goes through the same symbol actor, which would
/// wait on itself. A signal sent while the queue is closed is not lost: it stays `pending` in its market,
/// which hands it over again when it next recovers.
final class StrategyRuntime: Sendable {
    private struct State: Sendable {
        var continuation: AsyncStream<QueuedSignal>.Continuation?
        var consumer: Task<Void, Never>?
        var stopping = false
        var creating: [UserID: Int] = [:]
    }

    private let state = Mutex(State())

    /// Opens a fresh queue (at start, before the markets recover: what they hand over waits in it).
    func open() -> AsyncStream<QueuedSignal> {
        let (stream, continuation) = AsyncStream.makeStream(of: QueuedSignal.self)
        state.withLock { state in
            state.continuation?.finish()
            state.continuation = continuation
            state.stopping = false
        }
        return stream
    }

    /// Hands `signal` to the exchange; `since` is when the print that fired it reached its market (nil for a
    /// signal handed over again after a restart), for the tick-to-order latency.
    func send(_ signal: FiredSignal, since: ContinuousClock.Instant? = nil) {
        _ = state.withLock { $0.continuation }?.yield(QueuedSignal(signal: signal, since: since))
    }

    /// Remembers the task draining the queue.
    func setConsumer(_ task: Task<Void, Never>) { state.withLock { $0.consumer = task } }

    /// True once `close()` has run: the consumer stops after the signal in hand.
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Closes the queue; returns the consumer, to wait for the signal it is placing.
    func close() -> Task<Void, Never>? {
        state.withLock { state in
            state.stopping = true
            state.continuation?.finish()
            state.continuation = nil
            defer { state.consumer = nil }
            return state.consumer
        }
    }

    /// Counts a creation by `user` in flight; returns how many are, this one included.
    func beginCreate(user: UserID) -> Int {
        state.withLock { state in
            state.creating[user, default: 0] += 1
            return state.creating[user]!
        }
    }

    func endCreate(user: UserID) {
        state.withLock { state in
            state.creating[user, default: 1] -= 1
            if state.creating[user] == 0 { state.creating[user] = nil }
        }
    }
}

/// A fired signal on its way to the order flow, with when the print that fired it arrived.
struct QueuedSignal: Sendable {
    var signal: FiredSignal
    var since: ContinuousClock.Instant?
}
