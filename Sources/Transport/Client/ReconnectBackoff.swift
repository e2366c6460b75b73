/// Capped exponential backoff with jitter for reconnecting: attempt n waits a random time between half and all
/// of min(maximum, initial × multiplierⁿ), so peers that lost the same node do not reconnect in lockstep.
public struct ReconnectBackoff: Sendable, Hashable {
    /// The delay bound of the first attempt.
    public var initial: Duration
    /// The largest delay bound.
    public var maximum: Duration
    /// Growth of the bound per attempt.
    public var multiplier: Double

    /// Creates a backoff.
    public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(5), multiplier: Double = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The bound for `attempt` (0-based), before jitter.
    public func bound(forAttempt attempt: Int) -> Duration {
        let initialSeconds = Self.seconds(initial)
        let maximumSeconds = Self.seconds(maximum)
        let grown = initialSeconds * pow(multiplier, Double(min(max(0, attempt), 64)))
        return .nanoseconds(Int64(min(grown, maximumSeconds) * 1e9))
    }

    /// The delay before `attempt` (0-based): uniform in [bound/2, bound].
    public func delay(forAttempt attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let bound = Self.seconds(bound(forAttempt: attempt))
        let seconds = bound / 2 + Double.random(in: 0...1, using: &random) * bound / 2
        return .nanoseconds(Int64(seconds * 1e9))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 {
            result *= base
            remaining -= 1
            if result.isInfinite { break }
        }
        return result
    }
}
