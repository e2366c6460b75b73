/// The receiving side's business logic: answers batches of requests.
///
/// The transport calls ``handle(_:)`` once per batch that arrived together, so an implementation can group the
/// work per actor and pay one actor hop per group rather than per message. Requests in a batch may come from
/// one sender only; several batches may be handled at once.
///
/// The transport has already dropped duplicates (a retried id gets the first reply without reaching the
/// handler) and requests whose deadline had passed on arrival.
public protocol PeerHandler: Sendable {
    /// Answers `requests`: one reply per request, matched by ``PeerReply/requestID`` (order does not matter).
    /// A request left without a reply is answered with a `.noReply` transport error.
    func handle(_ requests: [PeerRequest]) async -> [PeerReply]
}
