import Foundation
import Trading

/// Typed access to the fields of one decoded JSON object, with errors that name the field but never carry the
/// payload.
///
/// Prices and sizes must be JSON strings: Foundation reads JSON numbers through `Double`, which is not exact.
struct JSONFields {
    let values: [String: Any]

    init(_ values: [String: Any]) {
        self.values = values
    }

    /// Decodes `text` as one JSON object.
    init(parsing text: String) throws(BourseError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [])
        } catch {
            throw .validation("message is not valid JSON")
        }
        guard let values = object as? [String: Any] else { throw .validation("message is not a JSON object") }
        self.values = values
    }

    func has(_ key: String) -> Bool {
        values[key] != nil
    }

    /// The object under `key`, if there is one.
    func object(_ key: String) -> JSONFields? {
        (values[key] as? [String: Any]).map(JSONFields.init)
    }

    /// The string under `key`, or nil when absent or null; any other type is an error.
    func string(_ key: String) throws(BourseError) -> String? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw .validation("\(key) must be a string") }
        return text
    }

    func requiredString(_ key: String) throws(BourseError) -> String {
        guard let text = try string(key) else { throw .validation("\(key) is missing") }
        return text
    }

    /// The decimal string under `key` in units of 10⁻⁸.
    func units(_ key: String, field: String) throws(BourseError) -> Int64 {
        guard let value = values[key], !(value is NSNull) else { throw .validation("\(field) is missing") }
        guard let text = value as? String else { throw .validation("\(field) must be a decimal string") }
        return try FixedDecimal.parse(text, scale: ReferenceTick.scale, field: field)
    }

    /// A time under `key`: an integer of ms since the epoch, or a string with such an integer or an RFC 3339 time.
    /// Nil when absent or null.
    func millis(_ key: String) throws(BourseError) -> Int64? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        if let text = value as? String { return try FeedTime.millis(parsing: text, field: key) }
        // JSON true and false arrive as NSNumbers of type "c" (char); `is Bool` would also match 0 and 1.
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c", let millis = value as? Int64
        else {
            throw .validation("\(key) must be ms since the epoch or an RFC 3339 time")
        }
        return millis
    }

    /// The time under the first of `keys` present, else `fallback`.
    func millis(_ keys: [String], default fallback: Int64) throws(BourseError) -> Int64 {
        for key in keys {
            if let millis = try millis(key) { return millis }
        }
        return fallback
    }
}
