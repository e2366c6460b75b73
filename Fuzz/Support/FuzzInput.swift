/// A fuzzer's bytes read as a sequence of small decisions, for harnesses that build structured values
/// instead of parsing text. Once the bytes run out every read yields zero, so any input is a whole value.
struct FuzzInput {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isExhausted: Bool { index >= bytes.count }

    mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    /// A number in `range` (small ranges only: one byte of choice).
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(byte()) % range.count
    }

    /// One of `choices`.
    mutating func pick<Element>(_ choices: [Element]) -> Element { choices[int(in: 0...choices.count - 1)] }

    /// Eight bytes, little-endian.
    mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
        return value
    }
}
