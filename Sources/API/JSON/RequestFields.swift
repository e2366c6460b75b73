import Trading

/// Typed access to the members of a request object; every failure is a `VALIDATION_ERROR` that names
/// the field. A member whose value is `null` counts as absent.
struct RequestFields: Sendable {
    let object: JSONObject

    /// - Throws: `.validation` unless `value` is an object.
    init(_ value: JSONValue, what: String = "request body") throws(BourseError) {
        guard case .object(let object) = value else { throw .validation("\(what) must be a JSON object") }
        self.object = object
    }

    /// The member, unless absent or `null`.
    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func required(_ key: String) throws(BourseError) -> JSONValue {
        guard let value = value(key) else { throw .validation("\(key) is required") }
        return value
    }

    func string(_ key: String) throws(BourseError) -> String {
        guard case .string(let text) = try required(key) else { throw .validation("\(key) must be a string") }
        return text
    }

    func optionalString(_ key: String) throws(BourseError) -> String? {
        guard has(key) else { return nil }
        return try string(key)
    }

    /// A decimal as its text: a JSON string or a JSON number's digits (never a binary float).
    func decimalText(_ key: String) throws(BourseError) -> String {
        switch try required(key) {
        case .string(let text), .number(let text): return text
        default: throw .validation("\(key) must be a decimal string or number")
        }
    }

    func optionalDecimalText(_ key: String) throws(BourseError) -> String? {
        guard has(key) else { return nil }
        return try decimalText(key)
    }

    func optionalBool(_ key: String) throws(BourseError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw .validation("\(key) must be a boolean") }
        return flag
    }

    /// One of `choices` (by its API spelling).
    func choice<Value>(_ key: String, _ choices: KeyValuePairs<String, Value>) throws(BourseError) -> Value {
        let text = try string(key)
        guard let match = choices.first(where: { $0.key == text }) else {
            throw .validation("\(key) must be one of \(choices.map(\.key).joined(separator: ", "))")
        }
        return match.value
    }

    func optionalChoice<Value>(_ key: String, _ choices: KeyValuePairs<String, Value>) throws(BourseError) -> Value? {
        guard has(key) else { return nil }
        return try choice(key, choices)
    }

    func array(_ key: String) throws(BourseError) -> [JSONValue] {
        guard case .array(let elements) = try required(key) else { throw .validation("\(key) must be an array") }
        return elements
    }
}
