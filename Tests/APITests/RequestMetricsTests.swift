import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import API

@Suite("Request metrics")
struct RequestMetricsTests {
    /// A response's body leaves the metrics middleware as it came: a single buffer stays a single buffer, which
    /// Hummingbird writes with its head and end in one write (one hop to the event loop, one socket write). A
    /// body wrapped in a closure, as Hummingbird's own `MetricsMiddleware` does, is written in three.
    @Test func aSingleBufferBodyIsLeftAsItIs() async throws {
        let middleware = RequestMetricsMiddleware<APIRequestContext>()
        let response = try await middleware.handle(Self.request(.get, "/healthz"), context: Self.context) { _, _ in
            Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"ok\":true}")))
        }
        #expect(response.status == .ok)
        #expect(Self.backing(of: response.body) == "byteBuffer")
        #expect(response.body.contentLength == 11)
    }

    /// Errors go through unchanged (the error middleware outside turns them into responses).
    @Test func anErrorIsRethrown() async throws {
        let middleware = RequestMetricsMiddleware<APIRequestContext>()
        await #expect(throws: HTTPError.self) {
            _ = try await middleware.handle(Self.request(.post, "/v1/orders"), context: Self.context) { _, _ in
                throw HTTPError(.conflict)
            }
        }
    }

    static func request(_ method: HTTPRequest.Method, _ path: String) -> Request {
        Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path),
            body: RequestBody(buffer: ByteBuffer()))
    }

    static var context: APIRequestContext {
        APIRequestContext(forwardedFrom: "127.0.0.1", logger: Logger(label: "metrics-test"))
    }

    /// The case of `ResponseBody`'s storage (`byteBuffer`, `empty` or `closure`), which Hummingbird keeps internal.
    static func backing(of body: ResponseBody) -> String? {
        guard let storage = Mirror(reflecting: body).children.first(where: { $0.label == "_backing" })?.value else {
            return nil
        }
        return Mirror(reflecting: storage).children.first?.label ?? String(describing: storage)
    }
}
