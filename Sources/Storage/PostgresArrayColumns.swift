import NIOCore
import PostgresNIO

/// One-dimensional PostgreSQL arrays bound in their binary form, one per column of a table's rows, filled in
/// a single pass over the rows.
///
/// The journal append and the read-model write bind a column per array, each of hundreds of rows per batch.
/// Built column by column (postgres-nio's `Array` encoding of `rows.map(\.column)`), every row was copied,
/// its strings retained and released, once per column: ~8 µs of node CPU per order for the read models in
/// the order benchmark's profile. Here each row is visited once and each value written straight into its
/// column's buffer. The bytes are postgres-nio's (`PostgresArrayColumnsTests` compares them).
struct PostgresArrayColumns {
    private var buffers: [[UInt8]]
    private let elements: [PostgresDataType]
    private var column = 0

    /// Columns of `rows` values each, of the given element types (`.int8`, `.int4`, `.bool`, `.text`,
    /// `.bytea`), in bind order.
    init(rows: Int, elements: [PostgresDataType]) {
        self.elements = elements
        buffers = elements.map { element in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(20 + rows * Self.bytesPerValue(element))
            Self.write(Int32(rows == 0 ? 0 : 1), to: &buffer)
            Self.write(Int32(0), to: &buffer)
            Self.write(element.rawValue, to: &buffer)
            if rows > 0 {
                Self.write(Int32(rows), to: &buffer)
                Self.write(Int32(1), to: &buffer)
            }
            return buffer
        }
    }

    /// The next column's value of the current row (`bigint`).
    mutating func add(_ value: Int64) {
        next(.int8) { buffer in
            Self.write(Int32(8), to: &buffer)
            Self.write(value, to: &buffer)
        }
    }

    /// The next column's value of the current row (`integer`).
    mutating func add(_ value: Int32) {
        next(.int4) { buffer in
            Self.write(Int32(4), to: &buffer)
            Self.write(value, to: &buffer)
        }
    }

    /// The next column's value of the current row (`boolean`).
    mutating func add(_ value: Bool) {
        next(.bool) { buffer in
            Self.write(Int32(1), to: &buffer)
            buffer.append(value ? 1 : 0)
        }
    }

    /// The next column's value of the current row (`text`, UTF-8).
    mutating func add(_ value: String) {
        next(.text) { buffer in
            Self.write(Int32(value.utf8.count), to: &buffer)
            buffer.append(contentsOf: value.utf8)
        }
    }

    /// The next column's value of the current row (`bytea`).
    mutating func add(_ value: [UInt8]) {
        next(.bytea) { buffer in
            Self.write(Int32(value.count), to: &buffer)
            buffer.append(contentsOf: value)
        }
    }

    /// Binds every column, in order, as an array parameter. Every row must be complete.
    func bind(into binds: inout PostgresBindings) {
        precondition(column == 0, "a row was left incomplete")
        for (element, buffer) in zip(elements, buffers) {
            binds.append(PostgresBinaryArray(element: element, bytes: ByteBuffer(bytes: buffer)))
        }
    }

    private mutating func next(_ element: PostgresDataType, _ write: (inout [UInt8]) -> Void) {
        precondition(elements[column] == element, "column \(column) holds \(elements[column]), not \(element)")
        write(&buffers[column])
        column = column + 1 == buffers.count ? 0 : column + 1
    }

    /// Big-endian, as PostgreSQL's binary format wants.
    private static func write(_ value: some FixedWidthInteger, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }

    private static func bytesPerValue(_ element: PostgresDataType) -> Int {
        switch element {
        case .bool: 5
        case .int4: 8
        case .int8: 12
        case .bytea: 200
        default: 16
        }
    }
}

/// One column of `PostgresArrayColumns` as a bind parameter: its bytes, written already.
struct PostgresBinaryArray: PostgresDynamicTypeEncodable {
    let psqlType: PostgresDataType
    var psqlFormat: PostgresFormat { .binary }
    private let bytes: ByteBuffer

    init(element: PostgresDataType, bytes: ByteBuffer) {
        psqlType = Self.arrayType(of: element)
        self.bytes = bytes
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeImmutableBuffer(bytes)
    }

    private static func arrayType(of element: PostgresDataType) -> PostgresDataType {
        switch element {
        case .bool: .boolArray
        case .int4: .int4Array
        case .int8: .int8Array
        case .bytea: .byteaArray
        case .text: .textArray
        default: preconditionFailure("no array type for \(element)")
        }
    }
}
