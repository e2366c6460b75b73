/// The sending side of the transport towards one peer: ``PeerClient`` over HTTP/2, or
/// ``LoopbackPeerChannel`` in process.
///
/// Delivery is at least once: a call may be retried with the same message id after a reconnect, and the
/// receiver deduplicates by id. Application errors come back as replies with ``PeerReply/isError``; failures of
/// the transport are thrown (or returned) as ``PeerTransportError``.
public protocol PeerChannel: Sendable {
    /// Sends one request and waits for its reply.
    /// - Parameters:
    ///   - message: The request.
    ///   - deadline: When to give up; a call still unanswered then fails with `.timeout`.
    /// - Returns: The reply.
    /// - Throws: ``PeerTransportError``: `.timeout`, `.cancelled`, `.shutdown`, `.unauthenticated`, …
    func send(_ message: PeerMessage, deadline: ContinuousClock.Instant) async throws(PeerTransportError) -> PeerReply

    /// Sends several requests together and waits for all their replies.
    /// - Parameters:
    ///   - messages: The requests.
    ///   - deadline: When to give up on the ones still unanswered.
    /// - Returns: One result per message, in the order of `messages`.
    func send(_ messages: [PeerMessage], deadline: ContinuousClock.Instant) async -> [Result<
        PeerReply, PeerTransportError
    >]
}
