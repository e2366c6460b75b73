import Trading

/// The properties of `JSONParser` that every request fuzzer checks on its input before handing the document on:
/// - it accepts what `ReferenceJSON` accepts, apart from documents with duplicate keys, and nothing else;
/// - what it accepts has no duplicate keys, and writes (`JSONWriter`) to text that parses back to the same value
///   and writes the same again;
/// - its numbers are numbers to `FixedDecimal` too (which reads them as decimals).
enum JSONChecks {
    /// The document, when the parser accepts it.
    static func parse(_ bytes: [UInt8], maxDepth: Int) -> JSONValue? {
        let parser = JSONParser(maxDepth: maxDepth)
        let reference = ReferenceJSON.accepts(bytes, maxDepth: maxDepth)
        let value: JSONValue
        do {
            value = try parser.parse(bytes)
        } catch {
            fuzzCheck(!reference || error.reason.hasPrefix("duplicate key"), "refused a JSON document: \(error)")
            return nil
        }
        fuzzCheck(reference, "accepted what is not strict JSON")
        checkMembers(value)
        let written = JSONWriter.bytes(value)
        let reread = try? parser.parse(written)
        fuzzCheck(
            reread == value, "written as \(JSONWriter.string(value)), it reads back as \(String(describing: reread))")
        fuzzCheck(reread.map(JSONWriter.bytes) == written, "written twice, differently")
        return value
    }

    /// No object has a key twice; every number is one to `FixedDecimal`.
    private static func checkMembers(_ value: JSONValue) {
        switch value {
        case .object(let object):
            fuzzCheck(Set(object.keys).count == object.keys.count, "duplicate keys in \(object.keys)")
            for member in object.members { checkMembers(member.value) }
        case .array(let elements):
            for element in elements { checkMembers(element) }
        case .number(let text) where text.utf8.count <= FixedDecimal.maxLength:
            do {
                _ = try FixedDecimal.parse(text, scale: Amount.scale)
            } catch {
                fuzzCheck(!error.message.hasSuffix("is not a number"), "JSON number \(text): \(error)")
            }
        case .number, .string, .bool, .null: break
        }
    }
}
