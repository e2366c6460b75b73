import Trading

/// Exact reading of the times feeds send: integer milliseconds since the epoch, or RFC 3339 text such as
/// `2014-11-07T08:19:27.028459Z` (fractions beyond milliseconds are truncated; offsets like `+02:00` are applied).
enum FeedTime {
    /// Parses `text` as ms since the epoch (digits only) or as an RFC 3339 date-time.
    static func millis(parsing text: String, field: String = "time") throws(BourseError) -> Int64 {
        let bytes = Array(text.utf8)
        let invalid = BourseError.validation("\(field) must be ms since the epoch or an RFC 3339 time")
        guard !bytes.isEmpty, bytes.count <= 40 else { throw invalid }
        if bytes.allSatisfy(isDigit) {
            guard bytes.count <= 15, let millis = Int64(text) else { throw invalid }
            return millis
        }
        guard let millis = rfc3339(bytes) else { throw invalid }
        return millis
    }

    private static func rfc3339(_ b: [UInt8]) -> Int64? {
        // YYYY-MM-DDTHH:MM:SS is 19 bytes; a zone (Z or ±HH:MM) follows, with an optional fraction before it.
        guard b.count >= 20, b[4] == ascii("-"), b[7] == ascii("-"), b[13] == ascii(":"), b[16] == ascii(":"),
            [ascii("T"), ascii("t"), ascii(" ")].contains(b[10]),
            let year = number(b, 0, 4), let month = number(b, 5, 2), let day = number(b, 8, 2),
            let hour = number(b, 11, 2), let minute = number(b, 14, 2), let second = number(b, 17, 2),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if b[index] == ascii(".") {
            index += 1
            var digits = 0
            while index < b.count, isDigit(b[index]) {
                if digits < 3 { millis = millis * 10 + Int64(b[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard index < b.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch b[index] {
        case ascii("Z"), ascii("z"):
            guard index + 1 == b.count else { return nil }
        case ascii("+"), ascii("-"):
            guard index + 6 == b.count, b[index + 3] == ascii(":"),
                let hours = number(b, index + 1, 2), let minutes = number(b, index + 4, 2), hours <= 23, minutes <= 59
            else { return nil }
            offsetMinutes = (hours * 60 + minutes) * (b[index] == ascii("-") ? -1 : 1)
        default:
            return nil
        }
        // A leap second (:60) reads as :59.
        let seconds =
            daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60
            + min(second, 59) - offsetMinutes * 60
        return seconds * 1_000 + millis
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func number(_ b: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        var value: Int64 = 0
        for index in start..<(start + count) {
            guard isDigit(b[index]) else { return nil }
            value = value * 10 + Int64(b[index] - 48)
        }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
    private static func ascii(_ character: Unicode.Scalar) -> UInt8 { UInt8(ascii: character) }
}
