import Hummingbird

/// Reads `Authorization: Bearer <token>` and records in the context who the caller is (or why the
/// token is not acceptable). Routes decide whether they need a user; this middleware never rejects.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let tokens: TokenAuthority
    let clock: APIClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        if let header = request.headers[.authorization] {
            context.authentication = await authenticate(header)
        }
        return try await next(request, context)
    }

    private func authenticate(_ header: String) async -> Authentication {
        let parts = header.split(separator: " ")
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .invalid("authorization must be a bearer token")
        }
        let token = String(parts[1])
        do {
            return .authenticated(try await tokens.verify(token, nowMillis: clock.nowMillis))
        } catch {
            return .invalid(error.message)
        }
    }
}
