/// The client's calls in flight: a pure state machine that returns what to do (resume callers, wake the
/// writer, arm the deadline timer) instead of doing it.
///
/// A call waits in the table until its reply arrives, its deadline passes or it is cancelled. While connected,
/// new calls go to a queue that the writer takes whole: calls added while the writer is busy leave together in
/// its next frame. When the connection drops, every unanswered call, sent or not, is queued again for the next
/// connection with its original message id. `Single`, `Batch` and `Writer` are the continuations the shell
/// resumes (plain values in tests).
struct PeerCallTable<Single, Batch, Writer> {
    typealias Outcome = Result<PeerReply, PeerTransportError>

    enum Completion {
        case single(Single, Outcome)
        case batch(Batch, [Outcome])
    }

    /// What the shell must do after a transition.
    struct Actions {
        var completions: [Completion] = []
        /// Resume the parked writer with these envelopes (`nil`: stop writing).
        var wake: (writer: Writer, envelopes: [PeerEnvelope]?)?
        /// Arm the deadline timer; a timer's firing is valid only with the latest generation.
        var arm: (deadline: ContinuousClock.Instant, generation: UInt64)?
    }

    /// What the writer gets from ``nextOutbound(writer:now:)``.
    enum Outbound {
        case envelopes([PeerEnvelope])
        case parked
        case stop
    }

    private enum Waiter {
        case single(Single)
        case batch(id: UInt64, index: Int)
    }

    private struct Call {
        var message: PeerMessage
        var deadline: ContinuousClock.Instant
        var waiter: Waiter
    }

    private struct PendingBatch {
        var waiter: Batch
        var ids: [UInt64]
        var results: [Outcome?]
        var remaining: Int
    }

    private enum Phase { case open, draining, closed }

    let sender: PeerIdentity
    let maximumFrameBytes: Int
    private var calls: [UInt64: Call] = [:]
    private var batches: [UInt64: PendingBatch] = [:]
    private var queue: [UInt64] = []
    private var writer: Writer?
    private var connected = false
    private var phase = Phase.open
    private var armed: ContinuousClock.Instant?
    private var generation: UInt64 = 0

    init(sender: PeerIdentity, maximumFrameBytes: Int) {
        self.sender = sender
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// Calls waiting for a reply.
    var pendingCount: Int { calls.count }
    /// Draining (or closed) and nothing left to wait for.
    var isDrained: Bool { phase != .open && calls.isEmpty }

    mutating func addSingle(
        id: UInt64, message: PeerMessage, deadline: ContinuousClock.Instant, waiter: Single,
        now: ContinuousClock.Instant
    ) -> Actions {
        var actions = Actions()
        if let failure = refusal(of: message, deadline: deadline, now: now) {
            actions.completions.append(.single(waiter, .failure(failure)))
            return actions
        }
        insert(id: id, Call(message: message, deadline: deadline, waiter: .single(waiter)), into: &actions)
        wakeWriter(now: now, into: &actions)
        return actions
    }

    mutating func addBatch(
        id batchID: UInt64, ids: [UInt64], messages: [PeerMessage], deadline: ContinuousClock.Instant, waiter: Batch,
        now: ContinuousClock.Instant
    ) -> Actions {
        var actions = Actions()
        var batch = PendingBatch(
            waiter: waiter, ids: ids, results: Array(repeating: nil, count: ids.count), remaining: 0)
        for (index, (id, message)) in zip(ids, messages).enumerated() {
            if let failure = refusal(of: message, deadline: deadline, now: now) {
                batch.results[index] = .failure(failure)
            } else {
                batch.remaining += 1
                insert(
                    id: id, Call(message: message, deadline: deadline, waiter: .batch(id: batchID, index: index)),
                    into: &actions)
            }
        }
        if batch.remaining == 0 {
            actions.completions.append(.batch(waiter, batch.results.map { $0! }))
        } else {
            batches[batchID] = batch
            wakeWriter(now: now, into: &actions)
        }
        return actions
    }

    /// The writer asks for work: everything queued, or it parks until there is some.
    mutating func nextOutbound(writer: Writer, now: ContinuousClock.Instant) -> Outbound {
        guard connected, phase != .closed, !(phase == .draining && calls.isEmpty) else { return .stop }
        var envelopes: [PeerEnvelope] = []
        envelopes.reserveCapacity(queue.count)
        for id in queue {
            guard let call = calls[id], call.deadline > now else { continue }
            envelopes.append(
                PeerEnvelope(
                    id: id, sender: sender, ringVersion: call.message.ringVersion, kind: call.message.kind,
                    flags: .request, timeoutMilliseconds: Self.milliseconds(from: now, to: call.deadline),
                    payload: call.message.payload))
        }
        queue.removeAll(keepingCapacity: true)
        if envelopes.isEmpty {
            self.writer = writer
            return .parked
        }
        return .envelopes(envelopes)
    }

    /// The writer's task was cancelled: the parked writer, to resume with `nil`.
    mutating func cancelWriter() -> Writer? {
        defer { writer = nil }
        return writer
    }

    /// A stream is open: every unanswered call goes out on it, oldest first.
    mutating func connectionEstablished() {
        connected = true
        queue = calls.keys.sorted()
    }

    /// The stream is gone: unanswered calls wait for the next one.
    mutating func connectionLost() -> Actions {
        connected = false
        queue = []
        var actions = Actions()
        if let writer {
            self.writer = nil
            actions.wake = (writer, nil)
        }
        return actions
    }

    /// Replies arrived (unknown ids, e.g. of calls that timed out, are ignored).
    mutating func receive(_ replies: [PeerEnvelope]) -> Actions {
        var actions = Actions()
        for envelope in replies {
            finish(envelope.id, with: PeerReply(envelope).result, into: &actions)
        }
        wakeWriterIfDrained(&actions)
        return actions
    }

    /// The caller's task was cancelled.
    mutating func cancel(_ id: UInt64) -> Actions {
        var actions = Actions()
        finish(id, with: .failure(PeerTransportError(code: .cancelled, reason: "caller cancelled")), into: &actions)
        wakeWriterIfDrained(&actions)
        return actions
    }

    /// A batch caller's task was cancelled.
    mutating func cancelBatch(_ batchID: UInt64) -> Actions {
        var actions = Actions()
        for id in batches[batchID]?.ids ?? [] {
            finish(id, with: .failure(PeerTransportError(code: .cancelled, reason: "caller cancelled")), into: &actions)
        }
        wakeWriterIfDrained(&actions)
        return actions
    }

    /// The deadline timer fired: time out what is due and arm for the next deadline.
    mutating func timerFired(generation fired: UInt64, now: ContinuousClock.Instant) -> Actions {
        var actions = Actions()
        guard fired == generation else { return actions }
        armed = nil
        let due = calls.filter { $0.value.deadline <= now }.keys
        for id in due {
            finish(id, with: .failure(PeerTransportError(code: .timeout, reason: "deadline passed")), into: &actions)
        }
        if let next = calls.values.lazy.map(\.deadline).min() { arm(next, into: &actions) }
        wakeWriterIfDrained(&actions)
        return actions
    }

    /// Fails every waiting call with `code` (e.g. `.unauthenticated` when the peer refuses the stream), or only
    /// those whose message `matching` accepts.
    mutating func failAll(
        _ code: PeerTransportError.Code, reason: String, matching: (PeerMessage) -> Bool = { _ in true }
    ) -> Actions {
        var actions = Actions()
        for (id, call) in calls where matching(call.message) {
            finish(id, with: .failure(PeerTransportError(code: code, reason: reason)), into: &actions)
        }
        wakeWriterIfDrained(&actions)
        return actions
    }

    /// Refuse new calls; the writer stops once the waiting ones are answered.
    mutating func drain() -> Actions {
        if phase == .open { phase = .draining }
        var actions = Actions()
        wakeWriterIfDrained(&actions)
        return actions
    }

    /// Refuse new calls and fail the waiting ones with `.shutdown`.
    mutating func close() -> Actions {
        phase = .closed
        var actions = failAll(.shutdown, reason: "client stopped")
        if let writer {
            self.writer = nil
            actions.wake = (writer, nil)
        }
        return actions
    }

    private func refusal(of message: PeerMessage, deadline: ContinuousClock.Instant, now: ContinuousClock.Instant)
        -> PeerTransportError?
    {
        guard phase == .open else { return PeerTransportError(code: .shutdown, reason: "client stopped") }
        let size =
            PeerFrameFormat.bodyHeaderBytes + PeerFrameFormat.envelopeFixedBytes + sender.nodeID.utf8.count
            + message.payload.readableBytes
        guard size <= maximumFrameBytes else {
            return PeerTransportError(code: .messageTooLarge, reason: "message larger than the frame limit")
        }
        guard deadline > now else { return PeerTransportError(code: .timeout, reason: "deadline already passed") }
        return nil
    }

    private mutating func insert(id: UInt64, _ call: Call, into actions: inout Actions) {
        calls[id] = call
        if armed.map({ call.deadline < $0 }) ?? true { arm(call.deadline, into: &actions) }
        if connected { queue.append(id) }
    }

    /// Hands the queue to a parked writer.
    private mutating func wakeWriter(now: ContinuousClock.Instant, into actions: inout Actions) {
        guard connected, let writer, !queue.isEmpty else { return }
        self.writer = nil
        switch nextOutbound(writer: writer, now: now) {
        case .envelopes(let envelopes): actions.wake = (writer, envelopes)
        case .stop: actions.wake = (writer, nil)
        case .parked: break
        }
    }

    private mutating func arm(_ deadline: ContinuousClock.Instant, into actions: inout Actions) {
        generation &+= 1
        armed = deadline
        actions.arm = (deadline, generation)
    }

    private mutating func finish(_ id: UInt64, with outcome: Outcome, into actions: inout Actions) {
        guard let call = calls.removeValue(forKey: id) else { return }
        switch call.waiter {
        case .single(let waiter):
            actions.completions.append(.single(waiter, outcome))
        case .batch(let batchID, let index):
            // Mutated in place through the subscript: no copy of the results.
            guard batches[batchID] != nil else { return }
            batches[batchID]!.results[index] = outcome
            batches[batchID]!.remaining -= 1
            if batches[batchID]!.remaining == 0, let batch = batches.removeValue(forKey: batchID) {
                actions.completions.append(.batch(batch.waiter, batch.results.map { $0! }))
            }
        }
    }

    private mutating func wakeWriterIfDrained(_ actions: inout Actions) {
        guard isDrained, let writer else { return }
        self.writer = nil
        actions.wake = (writer, nil)
    }

    /// Milliseconds from `now` to `deadline`, rounded up, at least 1.
    static func milliseconds(from now: ContinuousClock.Instant, to deadline: ContinuousClock.Instant) -> UInt32 {
        let (seconds, attoseconds) = (deadline - now).components
        guard seconds >= 0 else { return 1 }
        let millis = seconds.multipliedReportingOverflow(by: 1_000)
        guard !millis.overflow else { return UInt32.max }
        let total = millis.partialValue + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return UInt32(clamping: max(1, total))
    }
}
