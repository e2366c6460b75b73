/// Capped exponential backoff with jitter for reconnecting a feed.
///
/// Attempt `n` (0-based) has the bound `min(maximum, initial × multiplierⁿ)`; the delay is that bound shortened by up
/// to `jitter` of itself, so it never exceeds `maximum` and several nodes that lost the same upstream spread out.
public struct Backoff: Sendable, Hashable {
    /// The bound of the first attempt.
    public var initial: Duration = .milliseconds(250)
    /// The largest bound.
    public var maximum: Duration = .seconds(30)
    /// Growth of the bound per attempt (values below 1 count as 1).
    public var multiplier: Double = 2
    /// The largest share of the bound taken off at random (clamped to 0...1).
    public var jitter: Double = 0.2

    /// Creates a backoff.
    public init(
        initial: Duration = .milliseconds(250), maximum: Duration = .seconds(30), multiplier: Double = 2,
        jitter: Double = 0.2
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The bound of `attempt` (0-based), before jitter.
    public func bound(attempt: Int) -> Duration {
        // Int64 nanoseconds reach about 292 years; stay well inside.
        let cap = min(9e9, max(0, Self.seconds(maximum)))
        var seconds = min(cap, max(0, Self.seconds(initial)))
        let growth = multiplier.isFinite ? max(1, multiplier) : 1
        var remaining = max(0, attempt)
        while remaining > 0, seconds < cap {
            seconds = min(cap, seconds * growth)
            remaining -= 1
        }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// The delay before reconnect `attempt` (0-based): `bound × (1 − jitter × random)`, with `random` in `0..<1`.
    /// Pure, so it can be tested with fixed values.
    public func delay(attempt: Int, random: Double) -> Duration {
        let share = jitter.isFinite ? min(1, max(0, jitter)) : 0
        let unit = random.isFinite ? min(1, max(0, random)) : 0
        let seconds = Self.seconds(bound(attempt: attempt)) * (1 - share * unit)
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
