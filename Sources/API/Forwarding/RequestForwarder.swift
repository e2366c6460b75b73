/// Sends client requests to the node that serves the exchange (the active node), for a node that does not.
///
/// The node implements it over the inter-node transport; the API installs ``ForwardingMiddleware`` when
/// `APIServer` is given one. The target node answers with `ForwardedRequestResponder`.
public protocol RequestForwarder: Sendable {
    /// How this node serves exchange requests right now. Read on every request: keep it cheap (an atomic or
    /// mutex read).
    var mode: ForwardingMode { get }

    /// Sends the request to the node that serves it and returns that node's answer.
    /// - Throws: when the request could not be delivered or answered (the client gets 503 UNAVAILABLE).
    func forward(_ request: ForwardedRequest) async throws -> ForwardedResponse

    /// Opens the request (a `GET /v1/stream`) on the node that serves it and relays its answer as it comes.
    /// - Throws: when the node cannot be reached (the client gets 503 UNAVAILABLE).
    func forwardStream(_ request: ForwardedRequest) async throws -> ForwardedStream
}
