import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Trading

/// Answers requests forwarded by other nodes (the target side of ``ForwardingMiddleware``): it runs each one
/// through this node's routes, with their authentication, rate limit and readiness middleware, but without a
/// socket and without forwarding, so a forwarded request is never forwarded again.
///
/// Made once by `APIServer.makeForwardedRequestResponder()`; the node calls ``respond(_:)`` for each request
/// the transport delivers.
public struct ForwardedRequestResponder: Sendable {
    /// Largest response body relayed; a larger one answers 500 INTERNAL (streams, the only unbounded bodies,
    /// are never forwarded).
    public static let maximumResponseBodyBytes = ForwardingWireFormat.maximumBodyBytes

    let responder: RouterResponder<APIRequestContext>
    /// This node's forwarder: unless its mode is `.local`, this node does not serve the exchange.
    let forwarder: (any RequestForwarder)?
    let logger: Logger

    /// Runs `request` through the routes and returns the response with its whole body. Never throws: every
    /// failure is the API's usual JSON error response. When this node does not serve the exchange (it is
    /// handing off or still taking over, or lost the active role after the edge decided to forward), it runs
    /// nothing and answers 503 UNAVAILABLE with `Retry-After: 1` and ``ForwardedResponse/notServedField``,
    /// so that the edge may send the request again to the node that serves next.
    public func respond(_ request: ForwardedRequest) async -> ForwardedResponse {
        var logger = self.logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
        guard let forwarder else { return await run(request, logger: logger) }
        let route = RequestRoute(
            target: request.target, authorization: request.headers.last { $0.name == "authorization" }?.value)
        // Counted like the edge's own requests (`ForwardingMiddleware`): a handoff waits for them.
        if ForwardingMiddleware.isAdmin(route.path) {
            if forwarder.mode(for: route) == .local { return await run(request, logger: logger) }
        } else if await forwarder.admitLocal(route) {
            defer { forwarder.finishLocal() }
            return await run(request, logger: logger)
        }
        var refused = await Self.forwarded(
            ErrorResponse.make(
                for: BourseError(.unavailable, "this node no longer serves the exchange (or not yet)"), logger: logger),
            logger: logger)
        refused.headers.append(ForwardedHeader(name: ForwardedResponse.notServedField, value: "1"))
        return refused
    }

    /// Runs `request` through the routes.
    private func run(_ request: ForwardedRequest, logger: Logger) async -> ForwardedResponse {
        let response: Response
        do {
            let context = APIRequestContext(forwardedFrom: request.clientAddress, logger: logger)
            response = try await responder.respond(to: try Self.request(request), context: context)
        } catch {
            response = ErrorResponse.make(for: error, logger: logger)
        }
        return await Self.forwarded(response, logger: logger)
    }

    /// The Hummingbird request for `request`, with only the forwardable header fields.
    static func request(_ request: ForwardedRequest) throws(BourseError) -> Request {
        guard let method = HTTPRequest.Method(request.method) else { throw .validation("invalid method") }
        let head = HTTPRequest(
            method: method, scheme: nil, authority: nil, path: request.target,
            headerFields: ForwardedHeaderPolicy.fields(
                of: request.headers, keeping: ForwardedHeaderPolicy.isAcceptedForwardedField))
        return Request(head: head, body: RequestBody(buffer: request.body))
    }

    /// `response` with its body collected; a body that cannot be collected becomes an error response.
    static func forwarded(_ response: Response, logger: Logger) async -> ForwardedResponse {
        let headers = ForwardedHeaderPolicy.headers(
            of: response.headers, keeping: ForwardedHeaderPolicy.isRelayedResponseField)
        do {
            let body = try await CollectingResponseBodyWriter.collect(response.body, limit: maximumResponseBodyBytes)
            return ForwardedResponse(status: response.status.code, headers: headers, body: body)
        } catch {
            logger.error(
                "forwarded response body failed", metadata: ["status": "\(response.status.code)", "error": "\(error)"])
            let failure = ErrorResponse.make(BourseError(.internal, "internal error"))
            return ForwardedResponse(
                status: failure.status.code,
                headers: ForwardedHeaderPolicy.headers(
                    of: failure.headers, keeping: ForwardedHeaderPolicy.isRelayedResponseField),
                body: (try? await CollectingResponseBodyWriter.collect(failure.body, limit: .max)) ?? ByteBuffer())
        }
    }
}
