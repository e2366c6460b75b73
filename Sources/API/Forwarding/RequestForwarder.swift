/// Sends client requests to the node that serves the exchange (the active node), for a node that does not.
///
/// The node implements it over the inter-node transport; the API installs ``ForwardingMiddleware`` when
/// `APIServer` is given one. The target node answers with `ForwardedRequestResponder`.
public protocol RequestForwarder: Sendable {
    /// How this node serves exchange requests right now. Read on every request: keep it cheap (an atomic or
    /// mutex read).
    var mode: ForwardingMode { get }

    /// How long a request waits for a node to serve the exchange (a handoff or a failover under way) before
    /// it answers 503 UNAVAILABLE. Zero by default: it answers at once.
    var serviceWait: Duration { get }

    /// What `/readyz` says: `false` once this node shuts down (load balancers must stop sending it requests,
    /// though it still answers those that come), `true` when it can take requests whatever its exchange does
    /// (it forwards them), `nil` when its exchange decides (ready once its shards are recovered). By default
    /// `true` in `.forward` mode, else `nil`.
    var isReady: Bool? { get }

    /// Admits a request that this node serves itself (mode `.local`); true when admitted, and then
    /// ``finishLocal()`` must follow once it is answered. False when this node does not serve the exchange
    /// (any more, or not yet): nothing ran, and the request may wait for the node that does. A node counts
    /// the requests it admitted, so that it can stop admitting and wait for those before it hands its shards
    /// off. By default: admitted in `.local` mode, not counted.
    func admitLocal() async -> Bool

    /// Ends a request admitted by ``admitLocal()``.
    func finishLocal()

    /// How this node serves a request with `route`, for a forwarder that routes requests by what they are about
    /// (a cluster routing by shard); by default ``mode`` whatever the route. Read on every request.
    func mode(for route: RequestRoute) -> ForwardingMode

    /// Admits a request with `route` that this node serves itself (see ``admitLocal()``, its default).
    func admitLocal(_ route: RequestRoute) async -> Bool

    /// Sends the request to the node that serves it and returns that node's answer.
    /// - Throws: ``RequestNotForwarded`` when it was not sent (no node to send it to: the request may wait
    ///   for one), anything else when it could not be delivered or answered (the client gets 503 UNAVAILABLE).
    func forward(_ request: ForwardedRequest) async throws -> ForwardedResponse

    /// Opens the request (a `GET /v1/stream`) on the node that serves it and relays its answer as it comes.
    /// - Throws: when the node cannot be reached (the client gets 503 UNAVAILABLE).
    func forwardStream(_ request: ForwardedRequest) async throws -> ForwardedStream
}

extension RequestForwarder {
    public var serviceWait: Duration { .zero }

    public var isReady: Bool? { mode == .forward ? true : nil }

    public func admitLocal() async -> Bool { mode == .local }

    public func finishLocal() {}

    public func mode(for route: RequestRoute) -> ForwardingMode { mode }

    public func admitLocal(_ route: RequestRoute) async -> Bool { await admitLocal() }
}

/// Thrown by ``RequestForwarder/forward(_:)`` when the request was not sent anywhere (no node serves the
/// exchange right now), so that it is safe to send it later.
public struct RequestNotForwarded: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
