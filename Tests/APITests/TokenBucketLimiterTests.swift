import Testing

@testable import API

@Suite("Token bucket rate limiter")
struct TokenBucketLimiterTests {
    @Test func allowsTheBurstThenRefillsAtTheRate() {
        let clock = ManualClock()
        let limiter = TokenBucketLimiter(ratePerSecond: 2, burst: 3, maxKeys: 10, clock: clock.apiClock)
        for _ in 0..<3 { #expect(limiter.acquire("a").allowed) }
        let denied = limiter.acquire("a")
        #expect(!denied.allowed)
        #expect(denied.retryAfterSeconds == 1)
        #expect(limiter.acquire("b").allowed)  // buckets are per key
        clock.advance(seconds: 1)
        #expect(limiter.acquire("a").allowed)
        #expect(limiter.acquire("a").allowed)
        #expect(!limiter.acquire("a").allowed)
    }

    @Test func retryAfterCoversSlowRates() {
        let clock = ManualClock()
        let limiter = TokenBucketLimiter(ratePerSecond: 10.0 / 60, burst: 1, maxKeys: 10, clock: clock.apiClock)
        #expect(limiter.acquire("ip").allowed)
        #expect(limiter.acquire("ip").retryAfterSeconds == 6)
    }

    @Test func memoryIsBounded() {
        let clock = ManualClock()
        let limiter = TokenBucketLimiter(ratePerSecond: 1, burst: 5, maxKeys: 100, clock: clock.apiClock)
        for key in 0..<1000 { _ = limiter.acquire("k\(key)") }
        #expect(limiter.trackedKeys <= 100)
        // Idle buckets go first: after they refill, a new key evicts them all.
        clock.advance(seconds: 10)
        _ = limiter.acquire("new")
        #expect(limiter.trackedKeys == 1)
    }
}
