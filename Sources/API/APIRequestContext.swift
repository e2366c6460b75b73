import Hummingbird
import Logging
import NIOCore
import Trading

/// The request context of every API route: the caller's address and what its token said.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address (the HTTP/2 connection's, for a stream), or for a request forwarded by another
    /// node the original client's; keys anonymous rate limits.
    public let clientAddress: String
    /// The channel the request came on: an HTTP/2 stream, or the HTTP/1.1 connection; nil for a request
    /// forwarded by another node.
    let channel: (any Channel)?
    /// Set by `AuthenticationMiddleware` from the `Authorization` header.
    var authentication: Authentication = .anonymous
    /// Set by `RequestIDMiddleware`: the id the response's `X-Request-Id` and the request's log lines carry.
    var requestID: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        let address = source.channel.remoteAddress ?? source.channel.parent?.remoteAddress
        self.clientAddress = address?.ipAddress ?? "unknown"
    }

    /// The context of a request that another node forwarded (see `ForwardedRequestResponder`): no channel.
    /// - Parameters:
    ///   - clientAddress: the original client's IP address, as the edge node saw it.
    ///   - logger: the request's logger.
    public init(forwardedFrom clientAddress: String, logger: Logger) {
        self.coreContext = .init(source: ForwardedRequestContextSource(logger: logger))
        self.channel = nil
        self.clientAddress = clientAddress
    }

    /// The authenticated caller.
    /// - Throws: `.unauthorized` without a valid token.
    func requireUser() throws(BourseError) -> AuthenticatedUser {
        switch authentication {
        case .authenticated(let user): return user
        case .anonymous: throw .unauthorized("missing bearer token")
        case .invalid(let reason): throw .unauthorized(reason)
        }
    }

    /// The authenticated caller, who must be an admin.
    /// - Throws: `.unauthorized` without a valid token, `.forbidden` without role `admin`.
    func requireAdmin() throws(BourseError) -> AuthenticatedUser {
        let user = try requireUser()
        guard user.role == .admin else { throw .forbidden("admin role required") }
        return user
    }

    /// The caller when the token is valid, nil when there is none.
    /// - Throws: `.unauthorized` for a header that does not verify.
    func optionalUser() throws(BourseError) -> AuthenticatedUser? {
        switch authentication {
        case .authenticated(let user): return user
        case .anonymous: return nil
        case .invalid(let reason): throw .unauthorized(reason)
        }
    }
}

/// The source of a forwarded request's context: only a logger, since there is no channel.
private struct ForwardedRequestContextSource: RequestContextSource {
    let logger: Logger
}
