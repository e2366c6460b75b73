import Synchronization

/// Token buckets by key (a user or an IP address), refilled continuously from an injected clock.
///
/// Memory is bounded: at `maxKeys` buckets, buckets that have refilled completely (idle) are dropped
/// first — forgetting them changes nothing, since a new bucket starts full — and then the least
/// recently used half if that was not enough.
final class TokenBucketLimiter: Sendable {
    /// The answer to one request.
    struct Decision: Sendable, Hashable {
        var allowed: Bool
        /// Whole seconds until a request can succeed (0 when allowed).
        var retryAfterSeconds: Int
    }

    private struct Bucket {
        var tokens: Double
        var updatedMillis: Int64
    }

    let ratePerSecond: Double
    let burst: Double
    let maxKeys: Int
    private let clock: APIClock
    private let buckets = Mutex<[String: Bucket]>([:])

    init(ratePerSecond: Double, burst: Int, maxKeys: Int, clock: APIClock) {
        precondition(ratePerSecond > 0 && burst >= 1 && maxKeys >= 1)
        self.ratePerSecond = ratePerSecond
        self.burst = Double(burst)
        self.maxKeys = maxKeys
        self.clock = clock
    }

    /// Takes one token from `key`'s bucket if there is one.
    func acquire(_ key: String) -> Decision {
        let now = clock.nowMillis
        return buckets.withLock { buckets in
            var bucket: Bucket
            if let existing = buckets[key] {
                bucket = existing
                let elapsed = Double(max(0, now - bucket.updatedMillis)) / 1000
                bucket.tokens = min(burst, bucket.tokens + elapsed * ratePerSecond)
            } else {
                if buckets.count >= maxKeys { evict(&buckets, now: now) }
                bucket = Bucket(tokens: burst, updatedMillis: now)
            }
            bucket.updatedMillis = max(bucket.updatedMillis, now)
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = Decision(allowed: true, retryAfterSeconds: 0)
            } else {
                let wait = (1 - bucket.tokens) / ratePerSecond
                decision = Decision(allowed: false, retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
            buckets[key] = bucket
            return decision
        }
    }

    /// Buckets currently held (for tests and metrics).
    var trackedKeys: Int { buckets.withLock { $0.count } }

    private func evict(_ buckets: inout [String: Bucket], now: Int64) {
        buckets = buckets.filter { _, bucket in
            let elapsed = Double(max(0, now - bucket.updatedMillis)) / 1000
            return bucket.tokens + elapsed * ratePerSecond < burst
        }
        guard buckets.count >= maxKeys else { return }
        let keep = buckets.sorted { $0.value.updatedMillis > $1.value.updatedMillis }.prefix(maxKeys / 2)
        buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}
