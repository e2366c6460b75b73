extension APIServer {
    /// The responder for requests that other nodes forward to this one (see ``ForwardedRequestResponder``).
    ///
    /// Its router is built here, once, like the server's but without forwarding: a forwarded request is
    /// answered here or refused, never sent on. The JWT signing key must be loaded first (`prepare()`, or a
    /// running application).
    public func makeForwardedRequestResponder() -> ForwardedRequestResponder {
        ForwardedRequestResponder(
            responder: makeRouteTable(forwarding: false).router.buildResponder(), forwarder: services.forwarder,
            logger: services.logger)
    }
}
