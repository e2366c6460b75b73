import Testing

@testable import API

@Suite("Strict JSON parser and writer")
struct JSONParserTests {
    let parser = JSONParser()

    @Test func keepsNumbersAsTheirDigits() throws {
        let value = try parser.parse(#"{"a": 0.1, "b": -12.50e-3, "c": 100000000000000000000001}"#)
        #expect(value["a"] == .number("0.1"))
        #expect(value["b"] == .number("-12.50e-3"))
        #expect(value["c"] == .number("100000000000000000000001"))
    }

    @Test func keepsKeyOrderAndRoundTrips() throws {
        let text = #"{"z":1,"a":[true,false,null,"x\"y\\\n\u0001"],"m":{}}"#
        let value = try parser.parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(JSONWriter.string(value) == text)
    }

    @Test func decodesEscapesAndUnicode() throws {
        #expect(try parser.parse(#""\u00e9\ud83d\ude00\/\t""#) == .string("é😀/\t"))
        #expect(try parser.parse(Array("\"é😀\"".utf8)) == .string("é😀"))
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "1e", "NaN", "Infinity", "tru", "nul",
        "{\"a\" 1}", "{a:1}", "'x'", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\nb\"", "[1] [2]", "// c\n1",
        "{\"a\":1,\"a\":2}", "\"\\u12\"",
    ])
    func rejectsMalformedDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try parser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82],
        ] {
            #expect(throws: JSONParseError.self) { try parser.parse(bytes) }
        }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try parser.parse(deep) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try parser.parse(fine)
    }

    @Test func duplicateKeyErrorNamesTheKey() {
        do {
            _ = try parser.parse(#"{"price":"1","price":"2"}"#)
            Issue.record("accepted a duplicate key")
        } catch {
            #expect(error.description.contains("duplicate key \"price\""))
        }
    }

    @Test func writerEscapesControlCharacters() {
        #expect(JSONWriter.string(.string("a\u{7F}\u{1F}\r")) == #""a\u007f\u001f\r""#)
        #expect(JSONWriter.string(.double(0.5)) == "0.5")
        #expect(JSONWriter.string(.double(3)) == "3")
        #expect(JSONWriter.string(.double(.nan)) == "null")
    }
}
