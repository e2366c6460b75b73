import Hummingbird

/// One route of the API: its method and its path in OpenAPI form (`/v1/orders/{order_id}`).
public struct APIRoute: Sendable, Hashable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var description: String { "\(method) \(path)" }
}

/// Registers handlers on the router and remembers every route, so tests can check that the
/// OpenAPI document describes exactly what is served.
final class APIRouteTable {
    typealias Handler = @Sendable (Request, APIRequestContext) async throws -> Response

    let router: Router<APIRequestContext>
    private(set) var routes: [APIRoute] = []

    init(router: Router<APIRequestContext>) { self.router = router }

    /// Adds `handler` for `method` on `path` (`{name}` marks a path parameter).
    /// A `GET` route answers `HEAD` too (`HeadRequestMiddleware` drops the body).
    func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
        if method == .get {
            router.on(RouterPath(path), method: .head) { request, context in try await handler(request, context) }
        }
        routes.append(APIRoute(method: method.rawValue, path: path))
    }

    func get(_ path: String, _ handler: @escaping Handler) { on(.get, path, handler) }
    func post(_ path: String, _ handler: @escaping Handler) { on(.post, path, handler) }
    func patch(_ path: String, _ handler: @escaping Handler) { on(.patch, path, handler) }
    func delete(_ path: String, _ handler: @escaping Handler) { on(.delete, path, handler) }
}
