/// Checked Int64 arithmetic that throws instead of trapping.
public enum Checked {
    @inlinable public static func multiply(_ a: Int64, _ b: Int64) throws(BourseError) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow { throw .overflow("value") }
        return product
    }

    @inlinable public static func add(_ a: Int64, _ b: Int64) throws(BourseError) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw .overflow("value") }
        return sum
    }

    @inlinable public static func subtract(_ a: Int64, _ b: Int64) throws(BourseError) -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        if overflow { throw .overflow("value") }
        return difference
    }

    /// Ceiling division for a non-negative numerator and a positive divisor.
    @inlinable public static func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 {
        precondition(a >= 0 && b > 0)
        return a / b + (a % b == 0 ? 0 : 1)
    }

    /// `a × b / c` computed in 128 bits, exact or an error (when not an integer or out of range).
    public static func mulDivExact(_ a: Int64, _ b: Int64, _ c: Int64) throws(BourseError) -> Int64 {
        let product = Int128(a) * Int128(b)
        let (quotient, remainder) = product.quotientAndRemainder(dividingBy: Int128(c))
        guard remainder == 0 else { throw .validation("value is not exact at 8 decimals") }
        guard let result = Int64(exactly: quotient) else { throw .overflow("value") }
        return result
    }

    /// `a × b / c` in 128 bits, rounded down (toward zero for non-negative inputs).
    public static func mulDivFloor(_ a: Int64, _ b: Int64, _ c: Int64) throws(BourseError) -> Int64 {
        let product = Int128(a) * Int128(b)
        guard let result = Int64(exactly: product / Int128(c)) else { throw .overflow("value") }
        return result
    }
}
