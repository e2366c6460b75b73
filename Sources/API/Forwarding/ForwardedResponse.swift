public import NIOCore

/// The answer of the node that serves the exchange to a ``ForwardedRequest``, relayed by the edge as is.
public struct ForwardedResponse: Sendable, Equatable {
    /// The status codes a forwarded response may carry: final responses only.
    public static let statusCodes = 200...599

    /// A header field the answering node sets on its 503 for a request it did not run because it does not
    /// serve the exchange (any more, or not yet: a handoff under way), so that the forwarding node may send
    /// the request again once another node serves. Never relayed to clients.
    public static let notServedField = "bourse-not-served"

    /// The HTTP status code.
    public var status: Int
    /// The response's header fields, without hop-by-hop fields, `content-length`, `date` and `server`.
    public var headers: [ForwardedHeader]
    /// The whole response body.
    public var body: ByteBuffer

    public init(status: Int, headers: [ForwardedHeader] = [], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Whether the answering node did not run the request (``notServedField``).
    public var wasNotServed: Bool { headers.contains { $0.name == Self.notServedField } }

    /// The binary form (see ``ForwardingWireFormat``). A status outside ``statusCodes`` encodes, but does not
    /// decode.
    public func encoded() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(64 + body.readableBytes)
        ForwardingWireFormat.writeHeader(kind: ForwardingWireFormat.responseKind, to: &buffer)
        buffer.writeInteger(UInt16(clamping: status))
        ForwardingWireFormat.writeHeaders(headers, to: &buffer)
        ForwardingWireFormat.writeBody(body, to: &buffer)
        return buffer
    }

    /// Decodes the binary form; the body is a slice of `buffer`, not a copy.
    /// - Throws: ``ForwardingDecodingError`` for truncated, oversized or malformed bytes, or a status outside
    ///   ``statusCodes``.
    public init(decoding buffer: ByteBuffer) throws(ForwardingDecodingError) {
        var reader = ForwardingWireReader(buffer)
        try reader.readHeader(kind: ForwardingWireFormat.responseKind)
        let status = Int(try reader.readUInt16())
        guard Self.statusCodes.contains(status) else { throw .init("invalid status") }
        let headers = try reader.readHeaders()
        let body = try reader.readBody()
        try reader.finish()
        self.init(status: status, headers: headers, body: body)
    }
}
