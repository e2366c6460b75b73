/// Appends values to a byte buffer in Bourse's fixed binary layout: integers little-endian,
/// strings and byte arrays prefixed with their length as a `UInt64`.
///
/// Used for snapshots and any other deterministic encoding; the matching `BinaryReader` reads the
/// same layout back. The layout never depends on the platform, so the same value always gives the
/// same bytes.
public struct BinaryWriter: Sendable {
    /// Everything written so far.
    public private(set) var bytes: [UInt8]

    /// A writer with an empty buffer; `capacity` is only a hint.
    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Number of bytes written so far.
    public var count: Int { bytes.count }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    /// A boolean as one byte, 0 or 1.
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: UInt16) { appendLittleEndian(UInt64(value), byteCount: 2) }

    public mutating func write(_ value: UInt32) { appendLittleEndian(UInt64(value), byteCount: 4) }

    public mutating func write(_ value: UInt64) { appendLittleEndian(value, byteCount: 8) }

    /// Two's complement, little-endian, 8 bytes.
    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }

    /// Two's complement, 16 bytes: the low 64 bits then the high 64 bits, each little-endian.
    public mutating func write(_ value: Int128) {
        let bits = UInt128(bitPattern: value)
        write(UInt64(truncatingIfNeeded: bits))
        write(UInt64(truncatingIfNeeded: bits >> 64))
    }

    /// A count or length, written as a `UInt64`.
    public mutating func writeCount(_ count: Int) {
        precondition(count >= 0, "a count is never negative")
        write(UInt64(count))
    }

    /// UTF-8 bytes prefixed with their count.
    public mutating func write(_ value: String) {
        writeCount(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }

    /// Bytes prefixed with their count.
    public mutating func write(bytes value: [UInt8]) {
        writeCount(value.count)
        bytes.append(contentsOf: value)
    }

    /// Bytes as they are, without a length (magic numbers, fixed-size fields).
    public mutating func writeRaw(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }

    @inline(__always)
    private mutating func appendLittleEndian(_ value: UInt64, byteCount: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<byteCount]))
        }
    }
}
