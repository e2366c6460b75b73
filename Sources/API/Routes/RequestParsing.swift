import HTTPTypes
import Hummingbird
import NIOCore
import Trading

/// Reading bodies, query parameters and path parameters, with API errors.
extension Request {
    /// The body parsed as strict JSON.
    /// - Throws: 413 PAYLOAD_TOO_LARGE over `limit` bytes; 400 VALIDATION_ERROR when empty or malformed.
    mutating func jsonBody(limit: Int, maxDepth: Int) async throws -> JSONValue {
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw BourseError(.payloadTooLarge, "request body is larger than \(limit) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw BourseError(.payloadTooLarge, "request body is larger than \(limit) bytes")
        }
        guard buffer.readableBytes > 0 else { throw BourseError.validation("request body is required") }
        do {
            return try JSONParser(maxDepth: maxDepth).parse(buffer.readableBytesView)
        } catch {
            throw BourseError.validation("malformed JSON: \(error)")
        }
    }

    /// A query parameter, nil when absent or empty.
    func query(_ name: String) -> String? {
        guard let value = uri.queryParameters[name[...]], !value.isEmpty else { return nil }
        return String(value)
    }

    /// An integer query parameter within `range`.
    func intQuery(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(BourseError) -> Int {
        guard let text = query(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw .validation("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The value of an optional `Idempotency-Key` header (1–128 visible ASCII characters).
    func idempotencyKey() throws(BourseError) -> String? {
        guard let value = headers[HTTPField.Name("Idempotency-Key")!] else { return nil }
        guard (1...128).contains(value.utf8.count), value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .validation("Idempotency-Key must be 1-128 visible ASCII characters")
        }
        return value
    }
}

extension APIRequestContext {
    /// A market symbol from the path; anything that cannot be a symbol is unknown (404).
    func symbolParameter() throws(BourseError) -> String {
        guard let symbol = parameters.get("symbol"), MarketSpec.isValidSymbol(symbol) else {
            throw .notFound("unknown symbol")
        }
        return symbol
    }

    /// An order id from the path: a decimal UInt64, anything else is 404.
    func orderIDParameter() throws(BourseError) -> OrderID {
        guard let text = parameters.get("order_id"), !text.isEmpty, text.utf8.count <= 20,
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let id = OrderID(text)
        else { throw .notFound("order not found") }
        return id
    }
}
