import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Requests by route, method and status, their duration, the errors and the requests in progress: the series of
/// Hummingbird's `MetricsMiddleware` (`hb_requests`, `http_server_request_duration`, `hb_request_errors`,
/// `http_server_active_requests`, with the same labels), measured up to the response's head.
///
/// Hummingbird's middleware counts a request once its body is written, by wrapping the body in a closure. That
/// costs every response its single-write path: head, body and end then leave as three writes, three hops to the
/// event loop and three socket writes instead of one (seen with `strace` on `POST /v1/orders`). A JSON body is
/// written right after its head, so the two ends differ by microseconds; a stream (`/v1/stream`) is counted
/// when it starts, and its duration is the time to its head rather than the stream's life.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let cache = RequestMetricsCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let started = DispatchTime.now().uptimeNanoseconds
        let active = cache.active(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            let series = cache.route(context.endpointPath ?? "Unknown", request.method, response.status)
            series.requests.increment()
            series.duration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let series = cache.route(context.endpointPath ?? "NotFound", request.method, status)
            series.requests.increment()
            series.errors.increment()
            throw error
        }
    }
}

/// The metric handles of each route, method and status, made once (a handle is a lookup in the metrics
/// factory).
private final class RequestMetricsCache: Sendable {
    struct Route: Hashable {
        var path: String
        var method: HTTPRequest.Method
        var status: Int
    }

    struct Series: Sendable {
        let requests: Counter
        let duration: Metrics.Timer
        let errors: Counter

        init(_ route: Route) {
            let labels = [
                ("http.route", route.path), ("http.request.method", route.method.description),
                ("http.response.status_code", String(route.status)),
            ]
            requests = Counter(label: "hb.requests", dimensions: labels)
            duration = Metrics.Timer(
                label: "http.server.request.duration", dimensions: labels, preferredDisplayUnit: .seconds)
            errors = Counter(
                label: "hb.request.errors",
                dimensions: [
                    ("http.route", route.path), ("http.request.method", route.method.description),
                    ("error.type", String(route.status)),
                ])
        }
    }

    private let routes = Mutex<[Route: Series]>([:])
    private let methods = Mutex<[HTTPRequest.Method: Meter]>([:])

    func route(_ path: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Series {
        let key = Route(path: path, method: method, status: status.code)
        if let series = routes.withLock({ $0[key] }) { return series }
        let series = Series(key)
        return routes.withLock { routes in
            if let existing = routes[key] { return existing }
            routes[key] = series
            return series
        }
    }

    func active(_ method: HTTPRequest.Method) -> Meter {
        methods.withLock { methods in
            if let meter = methods[method] { return meter }
            let meter = Meter(
                label: "http.server.active_requests", dimensions: [("http.request.method", method.description)])
            methods[method] = meter
            return meter
        }
    }
}
