/// The in-process ``PeerChannel``: hands requests straight to a ``PeerReceiver`` in the same process, with the
/// same deduplication and batching contract as ``PeerClient`` but no sockets, frames or signatures.
///
/// Used to run many nodes in one test process (see ``InProcessPeerNetwork``). A deadline is checked when the
/// call is made and when the reply comes back; a slow handler is not interrupted.
public struct LoopbackPeerChannel: PeerChannel {
    private let sender: PeerIdentity
    private let target: @Sendable () -> PeerReceiver?

    /// Creates a channel from `sender` to `receiver`.
    public init(sender: PeerIdentity, receiver: PeerReceiver) {
        self.sender = sender
        self.target = { receiver }
    }

    /// Creates a channel whose receiver is looked up on every call (`nil`: the peer is unreachable).
    init(sender: PeerIdentity, target: @escaping @Sendable () -> PeerReceiver?) {
        self.sender = sender
        self.target = target
    }

    public func send(_ message: PeerMessage, deadline: ContinuousClock.Instant) async throws(PeerTransportError)
        -> PeerReply
    {
        try await send([message], deadline: deadline)[0].get()
    }

    public func send(_ messages: [PeerMessage], deadline: ContinuousClock.Instant) async -> [Result<
        PeerReply, PeerTransportError
    >] {
        guard !messages.isEmpty else { return [] }
        if Task.isCancelled {
            return messages.map { _ in .failure(PeerTransportError(code: .cancelled, reason: "caller cancelled")) }
        }
        guard deadline > .now else {
            return messages.map { _ in .failure(PeerTransportError(code: .timeout, reason: "deadline already passed")) }
        }
        guard let receiver = target() else {
            return messages.map { _ in .failure(PeerTransportError(code: .unavailable, reason: "peer not reachable")) }
        }
        let first = reserveMessageIDs(messages.count)
        let requests = messages.enumerated().map { offset, message in
            PeerRequest(
                id: first &+ UInt64(offset), sender: sender, ringVersion: message.ringVersion, kind: message.kind,
                deadline: deadline, payload: message.payload)
        }
        let replies = await receiver.receive(requests)
        let late = ContinuousClock.now >= deadline
        var byID: [UInt64: PeerReply] = [:]
        for reply in replies { byID[reply.requestID] = reply }
        return requests.map { request in
            if late { return .failure(PeerTransportError(code: .timeout, reason: "deadline passed")) }
            guard let reply = byID[request.id] else {
                return .failure(PeerTransportError(code: .noReply, reason: "no reply from the receiver"))
            }
            return reply.result
        }
    }
}
