/// Splits a byte stream into lines, handling `\n` and `\r\n`, a last line without terminator, and lines longer than
/// a limit (reported as `nil` so that a broken file cannot exhaust memory).
struct LineSplitter {
    let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var overlong = false

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// The lines completed by `bytes`; `nil` stands for a line that was too long.
    mutating func append(_ bytes: some Sequence<UInt8>) -> [String?] {
        var lines: [String?] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(takeLine())
            } else if pending.count < maxLineBytes {
                pending.append(byte)
            } else {
                overlong = true
            }
        }
        return lines
    }

    /// The last line when the input did not end with a newline.
    mutating func finish() -> [String?] {
        pending.isEmpty && !overlong ? [] : [takeLine()]
    }

    private mutating func takeLine() -> String? {
        defer {
            pending.removeAll(keepingCapacity: true)
            overlong = false
        }
        if overlong { return nil }
        if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
        return String(decoding: pending, as: UTF8.self)
    }
}
