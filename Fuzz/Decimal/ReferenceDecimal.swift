import Trading

/// What `FixedDecimal.parse` should make of a text, computed another way: split by the grammar, then move the
/// decimal point over the digits as text, without any arithmetic until the digits are known to fit.
enum ReferenceDecimal {
    enum Outcome: Equatable, CustomStringConvertible {
        case value(Int64)
        case notNumber
        case tooPrecise
        case outOfRange
        /// An error the reference never gives.
        case other(BourseError)

        init(_ result: Result<Int64, BourseError>) {
            switch result {
            case .success(let value): self = .value(value)
            case .failure(let error) where error.code != .validation: self = .other(error)
            case .failure(let error) where error.message.hasSuffix(" is not a number"): self = .notNumber
            case .failure(let error) where error.message.hasSuffix(" decimal places"): self = .tooPrecise
            case .failure(let error) where error.message.hasSuffix(" is out of range"): self = .outOfRange
            case .failure(let error): self = .other(error)
            }
        }

        var description: String {
            switch self {
            case .value(let value): "\(value)"
            case .notNumber: "not a number"
            case .tooPrecise: "too many decimals"
            case .outOfRange: "out of range"
            case .other(let error): "\(error)"
            }
        }
    }

    /// The value of `text` times 10^`scale`, or why there is none.
    static func parse(_ text: [UInt8], scale: Int) -> Outcome {
        guard (1...FixedDecimal.maxLength).contains(text.count) else { return .notNumber }
        var rest = text[...]
        let negative = rest.first == UInt8(ascii: "-")
        if negative { rest = rest.dropFirst() }
        let integer = rest.prefix(while: isDigit)
        rest = rest.dropFirst(integer.count)
        guard !integer.isEmpty else { return .notNumber }
        var fraction = ArraySlice<UInt8>()
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            fraction = rest.prefix(while: isDigit)
            guard !fraction.isEmpty else { return .notNumber }
            rest = rest.dropFirst(fraction.count)
        }
        var exponent = 0
        if rest.first == UInt8(ascii: "e") || rest.first == UInt8(ascii: "E") {
            rest = rest.dropFirst()
            let exponentNegative = rest.first == UInt8(ascii: "-")
            if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
            let digits = rest.prefix(while: isDigit)
            guard !digits.isEmpty else { return .notNumber }
            rest = rest.dropFirst(digits.count)
            // At most 64 digits: any exponent beyond a million means the same as a million.
            for digit in digits { exponent = min(exponent * 10 + Int(digit - 48), 1_000_000) }
            if exponentNegative { exponent = -exponent }
        }
        guard rest.isEmpty else { return .notNumber }

        let digits = Array(integer + fraction)
        guard digits.contains(where: { $0 != UInt8(ascii: "0") }) else { return .value(0) }
        // Scaled, the decimal point sits after `point` of the digits (before them when negative, past them when
        // greater than their count, with zeros in between).
        let point = integer.count + exponent + scale
        if point < digits.count, digits[max(point, 0)...].contains(where: { $0 != UInt8(ascii: "0") }) {
            return .tooPrecise
        }
        let whole = digits.prefix(max(point, 0)).drop { $0 == UInt8(ascii: "0") }
        let trailingZeros = max(point - digits.count, 0)
        guard whole.count + trailingZeros <= 19 else { return .outOfRange }
        var magnitude: UInt64 = 0
        for digit in whole { magnitude = magnitude * 10 + UInt64(digit - 48) }
        for _ in 0..<trailingZeros { magnitude *= 10 }
        guard magnitude <= UInt64(Int64.max) else { return .outOfRange }
        return .value(negative ? -Int64(magnitude) : Int64(magnitude))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (48...57).contains(byte) }
}
