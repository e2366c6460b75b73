import NIOCore

/// The binary form of a forwarded request or response.
///
/// ```
/// request:  version u8 (1) · kind u8 ("Q") · method · target · client address · headers · body
/// response: version u8 (1) · kind u8 ("R") · status u16 · headers · body
/// text:     length u32 · UTF-8 bytes
/// headers:  count u32 · (name text · value text) × count
/// body:     length u32 · bytes
/// ```
///
/// Integers are big-endian. Every length is a `UInt32`, so encoding never fails or truncates; decoding checks
/// each length against the bytes present and against the bound below before reading or allocating, and
/// rejects bytes after the last field.
public enum ForwardingWireFormat {
    /// The format version written first; other versions are rejected.
    public static let version: UInt8 = 1
    /// Longest method token.
    public static let maximumMethodBytes = 32
    /// Longest request target (path and query).
    public static let maximumTargetBytes = 16 * 1024
    /// Longest client address.
    public static let maximumClientAddressBytes = 255
    /// Most header fields in one message.
    public static let maximumHeaderCount = 128
    /// Longest header name.
    public static let maximumHeaderNameBytes = 256
    /// Most bytes of header names and values together in one message.
    public static let maximumHeaderBytes = 64 * 1024
    /// Largest body.
    public static let maximumBodyBytes = 16 * 1024 * 1024

    static let requestKind = UInt8(ascii: "Q")
    static let responseKind = UInt8(ascii: "R")

    static func writeHeader(kind: UInt8, to buffer: inout ByteBuffer) {
        buffer.writeInteger(version)
        buffer.writeInteger(kind)
    }

    static func writeText(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(text.utf8.count))
        buffer.writeString(text)
    }

    static func writeHeaders(_ headers: [ForwardedHeader], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(headers.count))
        for header in headers {
            writeText(header.name, to: &buffer)
            writeText(header.value, to: &buffer)
        }
    }

    static func writeBody(_ body: ByteBuffer, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(body.readableBytes))
        buffer.writeImmutableBuffer(body)
    }
}

/// Reads the fields of ``ForwardingWireFormat`` with every bound checked.
struct ForwardingWireReader {
    private var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    mutating func readHeader(kind: UInt8) throws(ForwardingDecodingError) {
        guard let version = buffer.readInteger(as: UInt8.self) else { throw .init("truncated") }
        guard version == ForwardingWireFormat.version else { throw .init("unsupported version") }
        guard let found = buffer.readInteger(as: UInt8.self) else { throw .init("truncated") }
        guard found == kind else { throw .init("unexpected message kind") }
    }

    mutating func readUInt16() throws(ForwardingDecodingError) -> UInt16 {
        guard let value = buffer.readInteger(as: UInt16.self) else { throw .init("truncated") }
        return value
    }

    /// A length prefix, at most `maximum` and at most what is left.
    private mutating func readLength(maximum: Int, field: String) throws(ForwardingDecodingError) -> Int {
        guard let length = buffer.readInteger(as: UInt32.self) else { throw .init("truncated") }
        guard UInt64(length) <= UInt64(maximum) else { throw .init("\(field) too long") }
        guard Int(length) <= buffer.readableBytes else { throw .init("truncated") }
        return Int(length)
    }

    mutating func readText(maximum: Int, field: String) throws(ForwardingDecodingError) -> String {
        let length = try readLength(maximum: maximum, field: field)
        guard let bytes = buffer.readSlice(length: length) else { throw .init("truncated") }
        guard let text = String(validating: bytes.readableBytesView, as: UTF8.self) else {
            throw .init("\(field) is not UTF-8")
        }
        return text
    }

    mutating func readHeaders() throws(ForwardingDecodingError) -> [ForwardedHeader] {
        guard let count = buffer.readInteger(as: UInt32.self) else { throw .init("truncated") }
        guard count <= ForwardingWireFormat.maximumHeaderCount else { throw .init("too many headers") }
        var headers: [ForwardedHeader] = []
        headers.reserveCapacity(Int(count))
        var budget = ForwardingWireFormat.maximumHeaderBytes
        for _ in 0..<count {
            let name = try readText(
                maximum: min(budget, ForwardingWireFormat.maximumHeaderNameBytes), field: "header name")
            guard !name.isEmpty else { throw .init("empty header name") }
            budget -= name.utf8.count
            let value = try readText(maximum: budget, field: "headers")
            budget -= value.utf8.count
            headers.append(ForwardedHeader(name: name, value: value))
        }
        return headers
    }

    mutating func readBody() throws(ForwardingDecodingError) -> ByteBuffer {
        let length = try readLength(maximum: ForwardingWireFormat.maximumBodyBytes, field: "body")
        guard let body = buffer.readSlice(length: length) else { throw .init("truncated") }
        return body
    }

    func finish() throws(ForwardingDecodingError) {
        guard buffer.readableBytes == 0 else { throw .init("bytes after the last field") }
    }
}
