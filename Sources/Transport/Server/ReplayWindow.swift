/// The receiver's memory of one sender incarnation's recent message ids: a pure state machine.
///
/// An id is first *claimed* (the caller handles it), then *completed* with its reply, which is kept until the
/// request's deadline (plus a grace period) has passed or the window holds more than `capacity` replies,
/// oldest first. A retried id gets the kept reply; an id still being handled gets its waiters resumed with
/// the first result. `Waiter` is whatever the shell resumes (a continuation; an `Int` in tests).
struct ReplayWindow<Waiter> {
    enum Claim {
        /// New id: handle it, then call ``complete(_:reply:expiry:now:)``.
        case handle
        /// Already answered: send this reply again.
        case cached(PeerReply)
        /// Being handled: wait with ``addWaiter(_:for:)``.
        case inFlight
    }

    private enum Entry {
        case inFlight([Waiter])
        case done(PeerReply)
    }

    let incarnation: UInt64
    let capacity: Int
    private var entries: [UInt64: Entry] = [:]
    private var completed: [(id: UInt64, expiry: ContinuousClock.Instant)] = []
    private var head = 0

    init(incarnation: UInt64, capacity: Int) {
        self.incarnation = incarnation
        self.capacity = max(1, capacity)
    }

    /// Replies kept for retries.
    var keptReplies: Int { completed.count - head }
    /// Nothing kept and nothing in flight: the window can be dropped.
    var isEmpty: Bool { entries.isEmpty }

    mutating func claim(_ id: UInt64) -> Claim {
        switch entries[id] {
        case .none:
            entries[id] = .inFlight([])
            return .handle
        case .inFlight:
            return .inFlight
        case .done(let reply):
            return .cached(reply)
        }
    }

    /// Registers `waiter` for an id in flight.
    /// - Returns: The reply if the id is already answered (the waiter is not kept), `nil` if the waiter was
    ///   kept. An id the window no longer knows is answered with `.noReply`.
    mutating func addWaiter(_ waiter: Waiter, for id: UInt64) -> PeerReply? {
        switch entries[id] {
        case .inFlight(var waiters):
            waiters.append(waiter)
            entries[id] = .inFlight(waiters)
            return nil
        case .done(let reply):
            return reply
        case .none:
            return .transportFailure(.noReply, requestID: id)
        }
    }

    /// Records the reply of a claimed id, keeps it until `expiry`, and evicts what is due.
    /// - Returns: The waiters to resume with `reply`.
    mutating func complete(
        _ id: UInt64, reply: PeerReply, expiry: ContinuousClock.Instant, now: ContinuousClock.Instant
    ) -> [Waiter] {
        var waiters: [Waiter] = []
        if case .inFlight(let waiting) = entries[id] { waiters = waiting }
        entries[id] = .done(reply)
        completed.append((id, expiry))
        evict(now: now)
        return waiters
    }

    /// Drops kept replies that are past their expiry or beyond the capacity, oldest first.
    mutating func evict(now: ContinuousClock.Instant) {
        while head < completed.count, completed.count - head > capacity || completed[head].expiry <= now {
            let id = completed[head].id
            if case .done = entries[id] { entries[id] = nil }
            head += 1
        }
        if head > 1_024, head * 2 > completed.count {
            completed.removeFirst(head)
            head = 0
        }
    }

    /// Ends the window (a newer incarnation appeared): every waiter, to be answered with `.staleIncarnation`.
    mutating func close() -> [(id: UInt64, waiter: Waiter)] {
        var waiting: [(UInt64, Waiter)] = []
        for (id, entry) in entries {
            if case .inFlight(let waiters) = entry { waiting += waiters.map { (id, $0) } }
        }
        entries = [:]
        completed = []
        head = 0
        return waiting
    }
}
