import HTTPTypes
import Hummingbird

/// Gives every request an id that follows it through the cluster: the `X-Request-Id` field of the response,
/// the `request_id` field of every log line the request writes, on every node it crosses.
///
/// A client may choose the id (`X-Request-Id`, 1 to 128 characters among letters, digits and `-_.:`);
/// otherwise the node draws one (32 hex digits). A request that another node forwarded carries the id the
/// edge node gave it (``ForwardingMiddleware`` sends it along), so the logs of both nodes share it.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        let id = request.headers[.requestID].flatMap(Self.accepted) ?? Self.generate()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        // Kept out of HTTP/2's header compression table (HPACK): a value that is new with every response would
        // evict the fields that do repeat and make every later lookup in the table scan more entries.
        var field = HTTPField(name: .requestID, value: id)
        field.indexingStrategy = .avoid
        response.headers[fields: .requestID] = [field]
        return response
    }

    /// `value` when it is acceptable as an id: 1 to 128 characters among `A–Z a–z 0–9 - _ . :`.
    static func accepted(_ value: String) -> String? {
        let bytes = value.utf8
        guard (1...128).contains(bytes.count), bytes.allSatisfy(isIDByte) else { return nil }
        return value
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }

    /// 128 random bits as 32 lowercase hex digits.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = String(generator.next() as UInt64, radix: 16)
        let low = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count)
            + low
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`: the request's id (``RequestIDMiddleware``).
    static let requestID = HTTPField.Name("X-Request-Id")!
}
