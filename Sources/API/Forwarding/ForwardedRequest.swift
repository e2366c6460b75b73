public import NIOCore

/// A client request as the edge node received it, to be answered by the node that serves the exchange.
///
/// It carries what the target's routes read: the method, the target (path and query string, exactly as
/// received), the end-to-end headers the routes read (`authorization`, `content-type`,
/// `accept`, `idempotency-key`), the whole body, and the original client's IP address, so that the target's
/// per-IP rate limit and logs see the real client.
public struct ForwardedRequest: Sendable, Equatable {
    /// The method (`GET`, `POST`, …).
    public var method: String
    /// Path and query string as received: `/v1/orders?status=open`.
    public var target: String
    /// The forwarded header fields, in the order received.
    public var headers: [ForwardedHeader]
    /// The whole request body (empty for none).
    public var body: ByteBuffer
    /// The IP address of the client that sent the request to the edge.
    public var clientAddress: String

    public init(
        method: String, target: String, headers: [ForwardedHeader] = [], body: ByteBuffer = ByteBuffer(),
        clientAddress: String
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }

    /// The binary form (see ``ForwardingWireFormat``).
    public func encoded() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(64 + target.utf8.count + body.readableBytes)
        ForwardingWireFormat.writeHeader(kind: ForwardingWireFormat.requestKind, to: &buffer)
        ForwardingWireFormat.writeText(method, to: &buffer)
        ForwardingWireFormat.writeText(target, to: &buffer)
        ForwardingWireFormat.writeText(clientAddress, to: &buffer)
        ForwardingWireFormat.writeHeaders(headers, to: &buffer)
        ForwardingWireFormat.writeBody(body, to: &buffer)
        return buffer
    }

    /// Decodes the binary form; the body is a slice of `buffer`, not a copy.
    /// - Throws: ``ForwardingDecodingError`` for truncated, oversized or malformed bytes.
    public init(decoding buffer: ByteBuffer) throws(ForwardingDecodingError) {
        var reader = ForwardingWireReader(buffer)
        try reader.readHeader(kind: ForwardingWireFormat.requestKind)
        let method = try reader.readText(maximum: ForwardingWireFormat.maximumMethodBytes, field: "method")
        guard !method.isEmpty else { throw .init("empty method") }
        let target = try reader.readText(maximum: ForwardingWireFormat.maximumTargetBytes, field: "target")
        guard target.hasPrefix("/") else { throw .init("target is not a path") }
        let clientAddress = try reader.readText(
            maximum: ForwardingWireFormat.maximumClientAddressBytes, field: "client address")
        let headers = try reader.readHeaders()
        let body = try reader.readBody()
        try reader.finish()
        self.init(method: method, target: target, headers: headers, body: body, clientAddress: clientAddress)
    }
}
