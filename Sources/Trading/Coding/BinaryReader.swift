/// Reads values written by `BinaryWriter`, in the same order.
///
/// Every read checks the bytes that remain: truncated or malformed input throws a
/// `BourseError` (code `VALIDATION_ERROR`) and never traps. Lengths are checked against what is
/// left before anything is allocated, so a corrupt length cannot make the reader allocate much.
public struct BinaryReader: Sendable {
    private let bytes: [UInt8]
    /// Index of the next byte to read.
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func readUInt8() throws(BourseError) -> UInt8 {
        try need(1, "UInt8")
        let value = bytes[offset]
        offset += 1
        return value
    }

    /// A boolean written as 0 or 1; any other byte is an error.
    public mutating func readBool() throws(BourseError) -> Bool {
        let byte = try readUInt8()
        guard byte <= 1 else { throw malformed("invalid boolean \(byte) at offset \(offset - 1)") }
        return byte == 1
    }

    public mutating func readUInt16() throws(BourseError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readLittleEndian(byteCount: 2, "UInt16"))
    }

    public mutating func readUInt32() throws(BourseError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readLittleEndian(byteCount: 4, "UInt32"))
    }

    public mutating func readUInt64() throws(BourseError) -> UInt64 {
        try readLittleEndian(byteCount: 8, "UInt64")
    }

    public mutating func readInt64() throws(BourseError) -> Int64 {
        Int64(bitPattern: try readUInt64())
    }

    public mutating func readInt128() throws(BourseError) -> Int128 {
        try need(16, "Int128")
        let low = try readUInt64()
        let high = try readUInt64()
        return Int128(bitPattern: UInt128(high) << 64 | UInt128(low))
    }

    /// A count written by `writeCount`. It must be plausible: `count × minimumElementSize` bytes
    /// must still remain, so that a corrupt count is caught before any allocation.
    public mutating func readCount(minimumElementSize: Int = 1) throws(BourseError) -> Int {
        let start = offset
        let raw = try readUInt64()
        let size = UInt64(max(minimumElementSize, 0))
        let (total, overflow) = raw.multipliedReportingOverflow(by: size)
        guard raw <= UInt64(Int.max), !overflow, total <= UInt64(remaining) else {
            throw malformed("count \(raw) at offset \(start) exceeds the \(remaining) bytes left")
        }
        return Int(raw)
    }

    /// A length-prefixed UTF-8 string; invalid UTF-8 is an error.
    public mutating func readString() throws(BourseError) -> String {
        let start = offset
        let length = try readCount()
        let slice = bytes[offset..<offset + length]
        let text: String
        if slice.allSatisfy({ $0 < 0x80 }) {
            text = String(decoding: slice, as: UTF8.self)  // ASCII is valid UTF-8: skip the general validation
        } else if let valid = String(validating: slice, as: UTF8.self) {
            text = valid
        } else {
            throw malformed("invalid UTF-8 in the string at offset \(start)")
        }
        offset += length
        return text
    }

    /// Length-prefixed bytes.
    public mutating func readBytes() throws(BourseError) -> [UInt8] {
        let length = try readCount()
        return try readRaw(count: length)
    }

    /// Exactly `count` bytes without a length prefix.
    public mutating func readRaw(count: Int) throws(BourseError) -> [UInt8] {
        guard count >= 0 else { throw malformed("negative byte count") }
        try need(count, "\(count) bytes")
        let value = Array(bytes[offset..<offset + count])
        offset += count
        return value
    }

    /// Throws unless every byte has been read (trailing garbage is an error).
    public func expectEnd() throws(BourseError) {
        guard isAtEnd else { throw malformed("\(remaining) unexpected trailing bytes at offset \(offset)") }
    }

    private mutating func readLittleEndian(byteCount: Int, _ what: String) throws(BourseError) -> UInt64 {
        try need(byteCount, what)
        var value: UInt64 = 0
        if byteCount == 8 {
            let start = offset
            value = UInt64(
                littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start, as: UInt64.self) })
        } else {
            for index in 0..<byteCount { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        }
        offset += byteCount
        return value
    }

    private func need(_ count: Int, _ what: @autoclosure () -> String) throws(BourseError) {
        guard count <= remaining else {
            throw malformed("truncated input: \(what()) needs \(count) bytes at offset \(offset), \(remaining) left")
        }
    }

    private func malformed(_ message: String) -> BourseError { BourseError(.validation, message) }
}
