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
        // Split the bytes: `String.split` walks grapheme clusters, several µs for a 300-byte token.
        let parts = header.utf8.split(separator: UInt8(ascii: " "))
        guard parts.count == 2, String(Substring(parts[0])).lowercased() == "bearer" else {
            return .invalid("authorization must be a bearer token")
        }
        let token = String(Substring(parts[1]))
        do {
            return .authenticated(try await tokens.verify(token, nowMillis: clock.nowMillis))
        } catch {
            return .invalid(error.message)
        }
    }
}
