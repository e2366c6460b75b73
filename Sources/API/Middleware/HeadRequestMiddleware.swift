import HTTPTypes
import Hummingbird

/// Answers `HEAD` as `GET` would be answered, without the body (RFC 9110 §9.3.2): the same status and fields,
/// `Content-Length` included when the body's length is known. Every `GET` route is also a `HEAD` route
/// (`APIRouteTable`); this drops the body of its answer, and of any error. Without it a `HEAD` was a 404 whose
/// JSON body broke the stream over HTTP/2, since a response to `HEAD` may not carry one.
struct HeadRequestMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard request.method == .head else { return try await next(request, context) }
        var response = try await next(request, context)
        let length = response.body.contentLength
        // Setting a body sets its length (0) as the `Content-Length`; the length of what `GET` sends goes after.
        response.body = ResponseBody()
        response.headers[.contentLength] = length.map { String($0) }
        return response
    }
}
