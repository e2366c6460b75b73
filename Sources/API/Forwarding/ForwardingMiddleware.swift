import Hummingbird
import NIOCore
import Tracing
import Trading

/// Sends a standby node's client requests, whole, to the node that serves the exchange (active/standby).
///
/// The flow: a client's request reaches any node. Here (after metrics and error rendering, before
/// authentication, rate limiting and readiness) the node asks its ``RequestForwarder`` how it serves now:
/// - `.local`: this node serves; once the forwarder admits it (``RequestForwarder/admitLocal()``: a node
///   that starts handing off stops admitting and waits for the requests it admitted), the request goes on
///   through the router as usual. Admin requests are not counted (a drain waits for the handoff it starts).
/// - `.forward`: the body is read (at most `limits.bodyBytes`, else 413 PAYLOAD_TOO_LARGE as for any route),
///   the request becomes a ``ForwardedRequest`` carrying the client's address, and the forwarder sends it to
///   the active node, whose `ForwardedRequestResponder` runs it through the same routes (authentication, rate
///   limit and readiness included) and returns the ``ForwardedResponse`` that is relayed unchanged. When the
///   forwarder fails, the client gets 503 UNAVAILABLE with `Retry-After: 1`.
/// - `.unavailable(reason)`: no node serves right now (a handoff or a failover).
///
/// A request that finds no node serving — `.unavailable`, `.local` but not admitted, a forwarder that sent
/// nothing (``RequestNotForwarded``) or a target that did not run it (``ForwardedResponse/wasNotServed``) —
/// waits, looking again every 10 ms, up to ``RequestForwarder/serviceWait`` for a node that does, so that a
/// handoff makes requests slower rather than failed. When the wait runs out: 503 UNAVAILABLE with
/// `Retry-After: 1` (nothing ran, so the client may retry).
///
/// Some paths are always served locally (``servedLocally(_:)``): probes, metrics and the OpenAPI document
/// describe this node; sign-up, login, tokens and the JWKS use the shared user and key stores, which every
/// node reaches. `GET /v1/stream` never ends, so it cannot cross the request/reply transport: in `.forward`
/// mode it is relayed through ``RequestForwarder/forwardStream(_:)`` instead (the node opens it on the active
/// node's client API and copies the events as they come).
struct ForwardingMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let forwarder: any RequestForwarder
    /// Largest request body forwarded (`limits.bodyBytes`).
    let bodyLimit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let path = request.uri.path
        let route = RequestRoute(target: request.head.path ?? "/", authorization: request.headers[.authorization])
        if Self.isStream(path), forwarder.mode(for: route) == .forward {
            return try await relayStream(request, context: context)
        }
        guard !Self.servedLocally(path) else { return try await next(request, context) }
        // Admin requests are not counted: a drain is one, and it waits for the handoff it starts.
        let counted = !Self.isAdmin(path)
        let deadline = ContinuousClock.now + forwarder.serviceWait
        var request = request
        var body: ByteBuffer?
        while true {
            let reason: String
            switch forwarder.mode(for: route) {
            case .local:
                if !counted { return try await next(request, context) }
                if await forwarder.admitLocal(route) {
                    defer { forwarder.finishLocal() }
                    return try await next(request, context)
                }
                reason = "the node serving the exchange is changing"
            case .unavailable(let why):
                reason = why
            case .forward:
                if body == nil { body = try await Self.body(of: &request, limit: bodyLimit) }
                let method = request.method.rawValue
                let target = request.head.path ?? "/"
                do {
                    let response = try await withSpan("forward \(method)", ofKind: .client) { span in
                        if let id = context.requestID { span.attributes["bourse.request_id"] = id }
                        let forwarded = ForwardedRequest(
                            method: method, target: target, headers: Self.forwardedHeaders(of: request, context),
                            body: body ?? ByteBuffer(), clientAddress: context.clientAddress)
                        return try await forwarder.forward(forwarded)
                    }
                    // The target did not run it (it is handing off, or still taking over): try again shortly.
                    guard response.wasNotServed, ContinuousClock.now < deadline else { return try Self.relay(response) }
                    reason = "the node serving the exchange is changing"
                } catch let error as RequestNotForwarded {
                    reason = error.description
                } catch {
                    context.logger.warning("forwarding failed", metadata: ["error": "\(error)"])
                    throw BourseError(.unavailable, "the node serving the exchange cannot be reached")
                }
            }
            guard ContinuousClock.now < deadline else {
                throw BourseError(.unavailable, "no node serves the exchange right now: \(reason)")
            }
            try await Task.sleep(for: Self.retryInterval)
        }
    }

    /// The header fields sent with a forwarded request: the client's that routes read, the request's id and
    /// the current trace context (the forwarding span's, when a tracer is bootstrapped).
    static func forwardedHeaders(of request: Request, _ context: Context) -> [ForwardedHeader] {
        var headers = ForwardedHeaderPolicy.headers(
            of: request.headers, keeping: ForwardedHeaderPolicy.isForwardedRequestField)
        if let id = context.requestID { headers.append(ForwardedHeader(name: "x-request-id", value: id)) }
        InstrumentationSystem.instrument.inject(
            InstrumentationContext.current ?? .topLevel, into: &headers, using: ForwardedHeaderInjector())
        return headers
    }

    /// How often a waiting request looks again for a node that serves the exchange.
    static let retryInterval = Duration.milliseconds(10)

    /// The client's answer for a forwarded request's response, relayed unchanged.
    static func relay(_ response: ForwardedResponse) throws -> Response {
        guard ForwardedResponse.statusCodes.contains(response.status) else {
            throw BourseError(.internal, "forwarded response with status \(response.status)")
        }
        return Response(
            status: HTTPResponse.Status(code: response.status),
            headers: ForwardedHeaderPolicy.fields(
                of: response.headers, keeping: ForwardedHeaderPolicy.isRelayedResponseField),
            body: ResponseBody(byteBuffer: response.body))
    }

    /// Opens the stream on the serving node and copies its body to the client until either side ends it.
    private func relayStream(_ request: Request, context: Context) async throws -> Response {
        let forwarded = ForwardedRequest(
            method: request.method.rawValue, target: request.head.path ?? "/",
            headers: Self.forwardedHeaders(of: request, context), clientAddress: context.clientAddress)
        let stream: ForwardedStream
        do {
            stream = try await forwarder.forwardStream(forwarded)
        } catch {
            context.logger.warning("relaying a stream failed", metadata: ["error": "\(error)"])
            throw BourseError(.unavailable, "the node serving the exchange cannot be reached")
        }
        guard ForwardedResponse.statusCodes.contains(stream.status) else {
            throw BourseError(.internal, "forwarded response with status \(stream.status)")
        }
        let body = stream.body
        return Response(
            status: HTTPResponse.Status(code: stream.status),
            headers: ForwardedHeaderPolicy.fields(
                of: stream.headers, keeping: ForwardedHeaderPolicy.isRelayedResponseField),
            body: ResponseBody { writer in
                for try await chunk in body { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    /// Whether `path` is under `/admin/` (compared like ``servedLocally(_:)``).
    static func isAdmin(_ path: String) -> Bool {
        path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).first.map {
            Substring($0) == "admin"
        } ?? false
    }

    /// `/v1/stream` (compared like ``servedLocally(_:)``).
    static func isStream(_ path: String) -> Bool {
        let components = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        return components.count == 2 && Substring(components[0]) == "v1" && Substring(components[1]) == "stream"
    }

    /// The whole body, as the routes read it: 413 PAYLOAD_TOO_LARGE over `limit` bytes.
    static func body(of request: inout Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw BourseError(.payloadTooLarge, "request body is larger than \(limit) bytes")
        }
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw BourseError(.payloadTooLarge, "request body is larger than \(limit) bytes")
        }
    }

    /// Whether `path` is served by this node whatever its mode: `/healthz`, `/readyz`, `/metrics`,
    /// `/openapi.json`, `/.well-known/jwks.json`, `/v1/stream` and everything under `/v1/auth/`.
    ///
    /// Path components are compared as the router matches them (empty components skipped), so `//healthz`
    /// or `/v1/stream/` are local too.
    static func servedLocally(_ path: String) -> Bool {
        let components = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        guard let first = components.first.map({ Substring($0) }) else { return false }
        switch components.count {
        case 1:
            return localRoots.contains(first)
        case 2:
            let second = Substring(components[1])
            if first == ".well-known" { return second == "jwks.json" }
            return first == "v1" && (second == "stream" || second == "auth")
        default:
            return first == "v1" && Substring(components[1]) == "auth"
        }
    }

    private static let localRoots: Set<Substring> = ["healthz", "readyz", "metrics", "openapi.json"]
}

/// Writes trace context fields (`traceparent`, `tracestate`) into a forwarded request's header list.
struct ForwardedHeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [ForwardedHeader]) {
        let name = key.lowercased()
        carrier.removeAll { $0.name == name }
        carrier.append(ForwardedHeader(name: name, value: value))
    }
}
