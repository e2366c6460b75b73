import NIOCore
import PostgresNIO
import Testing

@testable import Storage

/// The journal and the read models bind their columns with `PostgresBinaryArray`: its bytes and type must be
/// exactly those of postgres-nio's own array encoding, which PostgreSQL reads (the store suites read every
/// column back through it; this compares the wire bytes, empty arrays included).
@Suite struct PostgresArrayColumnsTests {
    /// Binds `values` as one column and compares it with postgres-nio's binding (types, format and bytes).
    private static func expectSame<Element: PostgresArrayEncodable>(
        _ values: [Element], element: PostgresDataType, sourceLocation: SourceLocation = #_sourceLocation,
        _ add: (inout PostgresArrayColumns, Element) -> Void
    ) throws {
        var columns = PostgresArrayColumns(rows: values.count, elements: [element])
        for value in values { add(&columns, value) }
        var ours = PostgresBindings()
        columns.bind(into: &ours)
        var theirs = PostgresBindings()
        try theirs.append(values)
        #expect(ours == theirs, sourceLocation: sourceLocation)
    }

    @Test(arguments: [[], [0], [Int64.min, -1, 0, 1, Int64.max, 1_714_564_800_000]])
    func bigints(_ values: [Int64]) throws {
        try Self.expectSame(values, element: .int8) { $0.add($1) }
    }

    @Test(arguments: [[], [Int32.min, -7, 0, 3, Int32.max]])
    func integers(_ values: [Int32]) throws {
        try Self.expectSame(values, element: .int4) { $0.add($1) }
    }

    @Test(arguments: [[], [true], [false, true, true, false]])
    func booleans(_ values: [Bool]) throws {
        try Self.expectSame(values, element: .bool) { $0.add($1) }
    }

    @Test(arguments: [[], [""], ["BTC-USD", "accounts/0417", "é€😀", String(repeating: "x", count: 5_000)]])
    func texts(_ values: [String]) throws {
        try Self.expectSame(values, element: .text) { $0.add($1) }
    }

    @Test func byteas() throws {
        let payloads: [[UInt8]] = [[], [0], Array(0...255), Array(repeating: 7, count: 70_000)]
        for values in [[], payloads] {
            try Self.expectSame(values.map { ByteBuffer(bytes: $0) }, element: .bytea) {
                $0.add(Array($1.readableBytesView))
            }
        }
    }

    /// Rows are written a row at a time, each value into its own column: the same bytes as binding each
    /// column's values on its own.
    @Test func rowsFillTheirColumnsInOrder() {
        let rows: [(String, Int64, Bool)] = [("a", 1, true), ("bc", -2, false), ("", .max, true)]
        var columns = PostgresArrayColumns(rows: rows.count, elements: [.text, .int8, .bool])
        for (name, value, flag) in rows {
            columns.add(name)
            columns.add(value)
            columns.add(flag)
        }
        var ours = PostgresBindings()
        columns.bind(into: &ours)
        var theirs = PostgresBindings()
        theirs.append(rows.map(\.0))
        theirs.append(rows.map(\.1))
        theirs.append(rows.map(\.2))
        #expect(ours == theirs)
    }
}
