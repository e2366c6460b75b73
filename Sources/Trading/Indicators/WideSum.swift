/// A running sum held as an unevaluated pair `high + low` of doubles (double-double, about 106 bits): values
/// and exact products can be added and taken out for ever without the sum drifting, and sums of nearly equal
/// size can be subtracted without losing the digits that differ. Uses only error-free transformations
/// (Knuth's two-sum, and a fused multiply-add for the exact error of a product).
struct WideSum: Sendable {
    private(set) var high = 0.0
    private(set) var low = 0.0

    /// `a + b` as the rounded sum and its exact rounding error.
    @inline(__always)
    static func twoSum(_ a: Double, _ b: Double) -> (sum: Double, error: Double) {
        let sum = a + b
        let bPart = sum - a
        return (sum, (a - (sum - bPart)) + (b - bPart))
    }

    /// `a * b` as the rounded product and its exact rounding error (by fused multiply-add).
    @inline(__always)
    static func twoProduct(_ a: Double, _ b: Double) -> (product: Double, error: Double) {
        let product = a * b
        return (product, (-product).addingProduct(a, b))
    }

    mutating func add(_ x: Double) {
        let (sum, error) = Self.twoSum(high, x)
        (high, low) = Self.twoSum(sum, low + error)
    }

    /// Adds `a * b` exactly (up to the sum's own precision).
    mutating func add(product a: Double, _ b: Double) {
        let (product, error) = Self.twoProduct(a, b)
        add(product)
        add(error)
    }

    /// `n · squares − sum²` for a window of `n` values with this sum of `squares` and this `sum`: `n²` times
    /// the window's population variance, clamped at zero, computed wide so that the two nearly equal terms
    /// cancel without taking the variance's digits with them.
    static func scaledVariance(count n: Double, squares: WideSum, sum: WideSum) -> Double {
        let (a, aError) = twoProduct(squares.high, n)
        let aLow = aError + squares.low * n
        let (b, bError) = twoProduct(sum.high, sum.high)
        let bLow = bError + 2 * sum.high * sum.low + sum.low * sum.low
        let (difference, differenceError) = twoSum(a, -b)
        return max(difference + (differenceError + (aLow - bLow)), 0)
    }
}
