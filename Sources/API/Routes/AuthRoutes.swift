import Hummingbird
import Trading

/// api.md "Auth": register, login, refresh, logout, JWKS and `GET /v1/me`.
struct AuthRoutes {
    let services: APIServices

    func register(on table: APIRouteTable) {
        let services = self.services
        table.post("/v1/auth/register") { request, _ in
            var request = request
            let fields = try RequestFields(
                try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth))
            let user = try await services.auth.register(
                username: try fields.string("username"), password: try fields.string("password"))
            return .json(["user_id": Render.id(user.id), "username": .string(user.username)], status: .created)
        }
        table.post("/v1/auth/login") { request, context in
            let decision = services.loginLimiter.acquire(context.clientAddress)
            guard decision.allowed else {
                throw APIError.rateLimited(retryAfterSeconds: decision.retryAfterSeconds, "too many login attempts")
            }
            var request = request
            let fields = try RequestFields(
                try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth))
            let pair = try await services.auth.login(
                username: try fields.string("username"), password: try fields.string("password"))
            return .json(Self.render(pair))
        }
        table.post("/v1/auth/refresh") { request, _ in
            var request = request
            let fields = try RequestFields(
                try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth))
            return .json(Self.render(try await services.auth.refresh(token: try fields.string("refresh_token"))))
        }
        table.post("/v1/auth/logout") { _, context in
            try await services.auth.logout(user: try context.requireUser())
            return Response(status: .noContent)
        }
        table.get("/.well-known/jwks.json") { _, _ in
            .json(try services.tokens.jwks())
        }
        table.get("/v1/me") { _, context in
            let caller = try context.requireUser()
            guard let user = try await services.auth.users.user(id: caller.id) else {
                throw BourseError.unauthorized("unknown user")
            }
            return .json([
                "user_id": Render.id(user.id), "username": .string(user.username), "role": .string(user.role),
                "created_at": Render.time(user.createdAtMillis),
            ])
        }
    }

    static func render(_ pair: TokenPair) -> JSONValue {
        [
            "access_token": .string(pair.accessToken), "refresh_token": .string(pair.refreshToken),
            "token_type": "Bearer", "expires_in": .int(pair.expiresIn),
        ]
    }
}
