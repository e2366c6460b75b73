import Actors
import Hummingbird
import Trading

/// Until the exchange has recovered its shards, everything that reaches it answers 503 UNAVAILABLE with
/// `Retry-After`: a command applied to a shard still replaying its journal would be applied twice or to
/// the wrong state. Health, readiness, metrics, the OpenAPI document and sign-up/login (the user store,
/// not the exchange) are served at once.
struct ReadinessMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let exchange: any ExchangeService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let path = request.uri.path
        if Self.needsExchange(path), !(await exchange.isReady()) {
            throw BourseError(.unavailable, "the node is starting: its shards are recovering")
        }
        return try await next(request, context)
    }

    static func needsExchange(_ path: String) -> Bool {
        (path.hasPrefix("/v1/") && !path.hasPrefix("/v1/auth/")) || path.hasPrefix("/admin/")
    }
}
