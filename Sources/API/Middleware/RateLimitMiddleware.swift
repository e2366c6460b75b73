import Hummingbird

/// Per-user (authenticated) or per-IP (anonymous) request limits; 429 RATE_LIMITED with `Retry-After`.
///
/// Health, readiness and metrics probes are not limited.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let limiter: TokenBucketLimiter
    static let exemptPaths: Set<String> = ["/healthz", "/readyz", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard !Self.exemptPaths.contains(request.uri.path) else { return try await next(request, context) }
        let key: String
        if case .authenticated(let user) = context.authentication {
            key = "user:\(user.id)"
        } else {
            key = "ip:\(context.clientAddress)"
        }
        let decision = limiter.acquire(key)
        guard decision.allowed else { throw APIError.rateLimited(retryAfterSeconds: decision.retryAfterSeconds) }
        return try await next(request, context)
    }
}
