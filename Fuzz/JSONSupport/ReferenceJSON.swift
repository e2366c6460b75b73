/// Whether bytes are one document that `JSONParser` must accept, decided another way: a recognizer written from
/// RFC 8259's grammar, Unicode's table of well-formed UTF-8 (Table 3-7), and the parser's documented rules (no
/// control characters in strings, `\u` surrogates only in pairs, at most `maxDepth` nested arrays and
/// objects). Duplicate keys are not looked for: that needs the keys decoded.
struct ReferenceJSON {
    private let bytes: [UInt8]
    private let maxDepth: Int
    private var index = 0

    static func accepts(_ bytes: [UInt8], maxDepth: Int) -> Bool {
        var reader = ReferenceJSON(bytes: bytes, maxDepth: maxDepth)
        reader.whitespace()
        guard reader.value(depth: 0) else { return false }
        reader.whitespace()
        return reader.index == bytes.count
    }

    private init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private var next: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard next == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    private mutating func takeDigits() -> Int {
        let start = index
        while let byte = next, (0x30...0x39).contains(byte) { index += 1 }
        return index - start
    }

    private mutating func whitespace() {
        while let byte = next, [0x20, 0x09, 0x0A, 0x0D].contains(byte) { index += 1 }
    }

    private mutating func value(depth: Int) -> Bool {
        guard let byte = next else { return false }
        switch Unicode.Scalar(byte) {
        case "{": return container(depth: depth + 1, close: "}", keyed: true)
        case "[": return container(depth: depth + 1, close: "]", keyed: false)
        case "\"": return string()
        case "t": return word("true")
        case "f": return word("false")
        case "n": return word("null")
        case "-", "0"..."9" as ClosedRange<Unicode.Scalar>: return number()
        default: return false
        }
    }

    private mutating func container(depth: Int, close: Unicode.Scalar, keyed: Bool) -> Bool {
        guard depth <= maxDepth else { return false }
        index += 1
        whitespace()
        if take(close) { return true }
        repeat {
            whitespace()
            if keyed {
                guard string() else { return false }
                whitespace()
                guard take(":") else { return false }
                whitespace()
            }
            guard value(depth: depth) else { return false }
            whitespace()
        } while take(",")
        return take(close)
    }

    private mutating func word(_ text: String) -> Bool {
        for scalar in text.unicodeScalars where !take(scalar) { return false }
        return true
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() -> Bool {
        _ = take("-")
        if !take("0") {
            guard let byte = next, (0x31...0x39).contains(byte) else { return false }
            _ = takeDigits()
        }
        if take("."), takeDigits() == 0 { return false }
        if take("e") || take("E") {
            _ = take("+") || take("-")
            if takeDigits() == 0 { return false }
        }
        return true
    }

    private mutating func string() -> Bool {
        guard take("\"") else { return false }
        while let byte = next {
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return true
            case UInt8(ascii: "\\"): guard escape() else { return false }
            case 0..<0x20: return false
            case 0x20..<0x80: continue
            default: guard utf8(lead: byte) else { return false }
            }
        }
        return false
    }

    private mutating func escape() -> Bool {
        for simple in ["\"", "\\", "/", "b", "f", "n", "r", "t"] as [Unicode.Scalar] where take(simple) { return true }
        guard take("u"), let unit = hex4() else { return false }
        switch unit {
        case 0xD800...0xDBFF:
            guard take("\\"), take("u"), let low = hex4() else { return false }
            return (0xDC00...0xDFFF).contains(low)
        case 0xDC00...0xDFFF: return false
        default: return true
        }
    }

    private mutating func hex4() -> UInt32? {
        var unit: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next, let digit = Self.hexDigits.firstIndex(of: byte) else { return nil }
            unit = unit * 16 + UInt32(digit % 16)
            index += 1
        }
        return unit
    }

    /// Lowercase then uppercase: a digit's value is its position modulo 16.
    private static let hexDigits = Array("0123456789abcdef0123456789ABCDEF".utf8)

    /// The rest of a multi-byte sequence after its first byte, by Table 3-7.
    private mutating func utf8(lead: UInt8) -> Bool {
        let continuations: Int
        let second: ClosedRange<UInt8>
        switch lead {
        case 0xC2...0xDF: (continuations, second) = (1, 0x80...0xBF)
        case 0xE0: (continuations, second) = (2, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (continuations, second) = (2, 0x80...0xBF)
        case 0xED: (continuations, second) = (2, 0x80...0x9F)
        case 0xF0: (continuations, second) = (3, 0x90...0xBF)
        case 0xF1...0xF3: (continuations, second) = (3, 0x80...0xBF)
        case 0xF4: (continuations, second) = (3, 0x80...0x8F)
        default: return false
        }
        for position in 0..<continuations {
            guard let byte = next, (position == 0 ? second : 0x80...0xBF).contains(byte) else { return false }
            index += 1
        }
        return true
    }
}
