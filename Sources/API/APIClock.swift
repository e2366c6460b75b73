#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The API's source of wall-clock time, in milliseconds since 1970.
///
/// Token lifetimes and rate-limit buckets read it; tests inject a manual clock so they need not sleep.
public struct APIClock: Sendable {
    private let now: @Sendable () -> Int64

    /// A clock reading `now`.
    public init(nowMillis now: @escaping @Sendable () -> Int64) { self.now = now }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var nowMillis: Int64 { now() }

    /// The system's real-time clock.
    public static let system = APIClock { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
