import Testing
import Trading

@Suite("Fixed-point decimals")
struct FixedDecimalTests {
    @Test(
        "parses decimal and JSON number text exactly",
        arguments: [
            ("50000.25", 8, 5_000_025_000_000),
            ("0.00000001", 8, 1),
            ("1", 8, 100_000_000),
            ("-2.5", 8, -250_000_000),
            ("007.50", 8, 750_000_000),
            ("1e-8", 8, 1),
            ("1.5E2", 8, 15_000_000_000),
            ("2.500000000000", 8, 250_000_000),
            ("0", 8, 0),
            ("-0.0", 8, 0),
            ("0e99999", 8, 0),
            ("92233720368.54775807", 8, Int64.max),
            ("12345", 0, 12_345),
            ("1.2e3", 0, 1_200),
            ("5000e-3", 0, 5),
        ] as [(String, Int, Int64)])
    func parses(text: String, scale: Int, expected: Int64) throws {
        #expect(try FixedDecimal.parse(text, scale: scale) == expected)
    }

    @Test(
        "refuses what is not a number",
        arguments: [
            "", "-", "+1", ".5", "5.", "1..2", "1e", "1e+", "abc", "1,5", " 1", "1 ", "NaN", "Infinity",
            "0x10", "1_000", "--1", "1e5.5", String(repeating: "1", count: 65),
        ])
    func refusesGarbage(text: String) {
        #expect(throws: BourseError.self) { try FixedDecimal.parse(text, scale: 8) }
        do {
            _ = try FixedDecimal.parse(text, scale: 8)
        } catch {
            #expect(error.code == .validation)
        }
    }

    @Test(
        "refuses too many decimals and overflow",
        arguments: [
            "0.000000001", "1.123456789", "1e-9", "92233720368.54775808", "1e11", "99999999999999999999",
            "1e400", "-92233720368.54775809",
        ])
    func refusesOutOfRange(text: String) {
        #expect(throws: BourseError.self) { try FixedDecimal.parse(text, scale: 8) }
    }

    @Test("formats exactly with the requested decimals")
    func formats() {
        #expect(FixedDecimal.format(5_000_025_000_000, scale: 8, fractionDigits: 2) == "50000.25")
        #expect(FixedDecimal.format(100_000_000, scale: 8, fractionDigits: 8) == "1.00000000")
        #expect(FixedDecimal.format(1, scale: 8, fractionDigits: 8) == "0.00000001")
        #expect(FixedDecimal.format(-150_000_000, scale: 8, fractionDigits: 2) == "-1.50")
        #expect(FixedDecimal.format(0, scale: 8, fractionDigits: 0) == "0")
        #expect(FixedDecimal.format(Int64.min, scale: 8, fractionDigits: 8) == "-92233720368.54775808")
        // Never drops significant digits: widens instead.
        #expect(FixedDecimal.format(123, scale: 8, fractionDigits: 2) == "0.00000123")
        #expect(Amount(units: 12_345_678_900).description == "123.45678900")
    }

    @Test("parse ∘ format is the identity on random values")
    func roundTrip() throws {
        var state: UInt64 = 7
        for _ in 0..<10_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let value = Int64(bitPattern: state) >> Int64(state % 50)
            let text = FixedDecimal.format(value, scale: 8, fractionDigits: 0)
            #expect(try FixedDecimal.parse(text, scale: 8) == value)
        }
    }

    @Test("checked arithmetic throws instead of trapping")
    func checked() throws {
        #expect(throws: BourseError.self) { try Amount(units: .max).adding(Amount(units: 1)) }
        #expect(throws: BourseError.self) { try Amount(units: .min).subtracting(Amount(units: 1)) }
        #expect(throws: BourseError.self) { try Checked.multiply(.max / 2, 3) }
        #expect(try Amount(units: 1_000_000).feeRoundedUp(bps: 20) == Amount(units: 2_000))
        #expect(try Amount(units: 1).feeRoundedUp(bps: 1) == Amount(units: 1))
        #expect(try Amount(units: 0).feeRoundedUp(bps: 20) == Amount(units: 0))
    }
}
