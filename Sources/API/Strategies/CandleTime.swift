import Trading

/// How a backtest's candles give `open_time`, so trades give their times the same way: RFC 3339 timestamps
/// (api.md's convention; answered in UTC with milliseconds) or whole milliseconds since 1970 as JSON numbers.
/// Every candle of a request uses the form of the first.
enum CandleTime: Sendable, Hashable {
    case rfc3339
    case epochMillis

    /// The latest time accepted: 9999-12-31T23:59:59.999Z.
    static let maxMillis: Int64 = 253_402_300_799_999

    /// The form of `json`, if it is a string or a number.
    init?(of json: JSONValue) {
        switch json {
        case .string: self = .rfc3339
        case .number: self = .epochMillis
        default: return nil
        }
    }

    /// What the form is called in error messages.
    var name: String {
        switch self {
        case .rfc3339: "an RFC 3339 timestamp"
        case .epochMillis: "whole milliseconds since 1970"
        }
    }

    /// The milliseconds since 1970 of `json` in this form, nil when it is not one (or out of 1970…9999).
    func millis(_ json: JSONValue) -> Int64? {
        switch (self, json) {
        case (.rfc3339, .string(let text)): Self.parseRFC3339(text)
        case (.epochMillis, .number(let text)): Int64(text).flatMap { (0...Self.maxMillis).contains($0) ? $0 : nil }
        default: nil
        }
    }

    /// `millis` in this form.
    func render(_ millis: Int64) -> JSONValue {
        switch self {
        case .rfc3339: .string(Timestamp.rfc3339(millis: millis))
        case .epochMillis: .int(millis)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T` and `Z` in either case) as milliseconds since 1970 in
    /// UTC; digits of the fraction past milliseconds are dropped. Nil for anything else, an impossible date or
    /// time (leap seconds included), or a time before 1970.
    static func parseRFC3339(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[start..<start + count] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = digits(0, 4), bytes[4] == UInt8(ascii: "-"), let month = digits(5, 2),
            bytes[7] == UInt8(ascii: "-"), let day = digits(8, 2), bytes[10] | 0x20 == UInt8(ascii: "t"),
            let hour = digits(11, 2), bytes[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
            bytes[16] == UInt8(ascii: ":"), let second = digits(17, 2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
            second < 60
        else { return nil }
        var index = 19
        var milli: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if count < 3 { milli = milli * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 3) { milli *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes: Int64 = 0
        if bytes[index] | 0x20 == UInt8(ascii: "z") {
            index += 1
        } else {
            let sign = bytes[index]
            guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), let hours = digits(index + 1, 2),
                index + 3 < bytes.count, bytes[index + 3] == UInt8(ascii: ":"), let minutes = digits(index + 4, 2),
                hours < 24, minutes < 60
            else { return nil }
            offsetMinutes = (hours * 60 + minutes) * (sign == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        }
        guard index == bytes.count else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let local = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milli
        let millis = local - offsetMinutes * 60_000
        return (0...maxMillis).contains(millis) ? millis : nil
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's `days_from_civil`.
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
