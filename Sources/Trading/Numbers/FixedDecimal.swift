/// Exact conversion between decimal text and fixed-point integers.
///
/// Bourse never routes a price, quantity or amount through binary floating point. Text is read
/// digit by digit into an `Int64` scaled by `10^scale`; anything that does not fit exactly is an error.
/// The accepted grammar is JSON's number grammar (optional `-`, digits, optional fraction, optional
/// exponent), with leading zeros tolerated so that `"007.50"` reads as `7.5`.
public enum FixedDecimal {
    /// The largest scale supported (10^18 still fits an Int64).
    public static let maxScale = 18
    /// Longest text accepted; longer input is refused before any work is done.
    public static let maxLength = 64

    /// Parses `text` into an integer scaled by `10^scale`.
    ///
    /// - Throws: `BourseError.validation` when the text is not a number, has more significant
    ///   fractional digits than `scale`, or does not fit an Int64.
    public static func parse(_ text: some StringProtocol, scale: Int, field: String = "value") throws(BourseError)
        -> Int64
    {
        precondition(scale >= 0 && scale <= maxScale)
        var utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= maxLength else { throw .validation("\(field) is not a number") }
        return try utf8.withUnsafeMutableBufferPointer { (buffer) throws(BourseError) -> Int64 in
            try parse(bytes: UnsafeBufferPointer(buffer), scale: scale, field: field)
        }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>, scale: Int, field: String) throws(BourseError) -> Int64 {
        let notNumber = BourseError.validation("\(field) is not a number")
        var index = 0
        let count = bytes.count
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        // Collect significant digits (integer then fraction) and count fractional digits.
        var digits: [UInt8] = []
        digits.reserveCapacity(count)
        var integerDigits = 0
        while index < count, isDigit(bytes[index]) {
            digits.append(bytes[index] &- 48)
            integerDigits += 1
            index += 1
        }
        guard integerDigits > 0 else { throw notNumber }
        var fractionDigits = 0
        if index < count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < count, isDigit(bytes[index]) {
                digits.append(bytes[index] &- 48)
                fractionDigits += 1
                index += 1
            }
            guard fractionDigits > 0 else { throw notNumber }
        }
        var exponent = 0
        if index < count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if index < count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var exponentDigits = 0
            while index < count, isDigit(bytes[index]) {
                // Saturate: anything beyond a few hundred is out of range either way.
                if exponent < 10_000 { exponent = exponent * 10 + Int(bytes[index] &- 48) }
                exponentDigits += 1
                index += 1
            }
            guard exponentDigits > 0 else { throw notNumber }
            if exponentNegative { exponent = -exponent }
        }
        guard index == count else { throw notNumber }

        // value = digits × 10^(exponent − fractionDigits); we want value × 10^scale.
        let shift = exponent - fractionDigits + scale
        // Strip leading zeros so the digit count reflects magnitude.
        var first = 0
        while first < digits.count - 1, digits[first] == 0 { first += 1 }
        var significant = digits[first...]
        if significant.allSatisfy({ $0 == 0 }) { return 0 }
        if shift < 0 {
            // The last -shift digits fall below the scale: they must all be zero.
            let drop = -shift
            if drop >= significant.count {
                throw .validation("\(field) has more than \(scale) decimal places")
            }
            let tail = significant.suffix(drop)
            guard tail.allSatisfy({ $0 == 0 }) else {
                throw .validation("\(field) has more than \(scale) decimal places")
            }
            significant = significant.dropLast(drop)
        }
        let overflow = BourseError.overflow(field)
        var result: Int64 = 0
        for digit in significant {
            let (times10, o1) = result.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int64(digit))
            if o1 || o2 { throw overflow }
            result = next
        }
        if shift > 0 {
            guard shift <= maxScale else { throw overflow }
            let (scaled, o) = result.multipliedReportingOverflow(by: pow10[shift])
            if o { throw overflow }
            result = scaled
        }
        return negative ? -result : result
    }

    /// Formats `value` (scaled by `10^scale`) with exactly `fractionDigits` decimals.
    ///
    /// `fractionDigits` must be at least the number of significant decimals of the value, which holds
    /// for any value on a grid of that many decimals. Extra significant digits are never dropped: the
    /// output widens instead, so formatting is always exact.
    public static func format(_ value: Int64, scale: Int, fractionDigits: Int) -> String {
        precondition(scale >= 0 && scale <= maxScale && fractionDigits >= 0)
        let magnitude = value.magnitude
        let divisor = UInt64(pow10[scale])
        let integerPart = magnitude / divisor
        var fraction = magnitude % divisor
        var digitsShown = scale
        // Trim zeros the caller did not ask for.
        while digitsShown > fractionDigits, fraction % 10 == 0 {
            fraction /= 10
            digitsShown -= 1
        }
        var text = value < 0 ? "-" : ""
        text += String(integerPart)
        let wanted = max(digitsShown, fractionDigits)
        if wanted > 0 {
            var fractionText = digitsShown > 0 ? String(fraction) : ""
            if fractionText.count < digitsShown {
                fractionText = String(repeating: "0", count: digitsShown - fractionText.count) + fractionText
            }
            fractionText += String(repeating: "0", count: wanted - digitsShown)
            text += "." + fractionText
        }
        return text
    }

    /// Number of decimals needed to write `value` (scaled by `10^scale`) exactly.
    public static func decimals(of value: Int64, scale: Int) -> Int {
        var v = value.magnitude
        var places = scale
        while places > 0, v % 10 == 0 {
            v /= 10
            places -= 1
        }
        return places
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// Powers of ten that fit an Int64.
    public static let pow10: [Int64] = {
        var table: [Int64] = [1]
        for _ in 1...18 { table.append(table.last! * 10) }
        return table
    }()
}
