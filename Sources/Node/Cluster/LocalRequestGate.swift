import Synchronization

/// The client requests the active node runs itself, counted so that a handoff can stop admitting new ones
/// and wait for those already inside the exchange before it stops it: a request is then either answered by
/// this node before its shards are snapshotted, or never started here (it waits for the next active node).
final class LocalRequestGate: Sendable {
    private struct State {
        var open = false
        var inFlight = 0
    }

    private let state = Mutex(State())

    /// Whether requests are admitted.
    var isOpen: Bool { state.withLock { $0.open } }

    /// The requests admitted and not yet finished.
    var inFlight: Int { state.withLock { $0.inFlight } }

    /// Admits requests from now on.
    func open() { state.withLock { $0.open = true } }

    /// Admits no request from now on (those admitted may still finish).
    func close() { state.withLock { $0.open = false } }

    /// Admits one request (true) unless the gate is closed.
    func enter() -> Bool {
        state.withLock { state in
            guard state.open else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Ends a request that `enter()` admitted.
    func leave() { state.withLock { $0.inFlight -= 1 } }

    /// Closes the gate and waits, up to `timeout`, until every request admitted has finished.
    /// - Returns: how many are still in flight (0 unless the wait ran out).
    func closeAndWait(upTo timeout: Duration, poll: Duration = .milliseconds(2)) async -> Int {
        close()
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = inFlight
            guard remaining > 0, ContinuousClock.now < deadline else { return remaining }
            do {
                try await Task.sleep(for: poll)
            } catch {
                return inFlight
            }
        }
    }
}
