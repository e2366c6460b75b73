import Synchronization

/// Envelopes waiting to be written on one stream, for a single writer task.
///
/// Producers ``append(_:)`` at any time; the writer's ``next()`` takes everything pending at once. While the
/// writer is busy writing, appends pile up and leave together in the next frame: the busier the stream, the
/// bigger the frames, and no timer when idle.
final class EnvelopeOutbox: Sendable {
    private struct State {
        var pending: [PeerEnvelope] = []
        var writer: CheckedContinuation<[PeerEnvelope]?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    /// Queues envelopes and wakes the writer if it waits.
    func append(_ envelopes: [PeerEnvelope]) {
        guard !envelopes.isEmpty else { return }
        let wake: (CheckedContinuation<[PeerEnvelope]?, Never>, [PeerEnvelope])? = state.withLock { state in
            state.pending += envelopes
            guard let writer = state.writer else { return nil }
            state.writer = nil
            defer { state.pending = [] }
            return (writer, state.pending)
        }
        if let (writer, envelopes) = wake { writer.resume(returning: envelopes) }
    }

    /// No more appends will come: the writer gets what is pending, then `nil`.
    func finish() {
        let writer = state.withLock { state in
            state.finished = true
            defer { state.writer = nil }
            return state.writer
        }
        writer?.resume(returning: nil)
    }

    /// Everything pending, waiting for some if there is none; `nil` once finished and drained, or cancelled.
    func next() async -> [PeerEnvelope]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (writer: CheckedContinuation<[PeerEnvelope]?, Never>) in
                let ready: [PeerEnvelope]?? = state.withLock { state in
                    if !state.pending.isEmpty {
                        defer { state.pending = [] }
                        return .some(state.pending)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.writer = writer
                    return .none
                }
                if let ready { writer.resume(returning: ready) }
            }
        } onCancel: {
            let writer = state.withLock { state in
                defer { state.writer = nil }
                return state.writer
            }
            writer?.resume(returning: nil)
        }
    }
}
