import Testing

@testable import Transport

@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
    @Test("bounds grow exponentially up to the cap")
    func bounds() {
        let backoff = ReconnectBackoff(initial: .milliseconds(50), maximum: .seconds(5), multiplier: 2)
        #expect(backoff.bound(forAttempt: 0) == .milliseconds(50))
        #expect(backoff.bound(forAttempt: 1) == .milliseconds(100))
        #expect(backoff.bound(forAttempt: 3) == .milliseconds(400))
        #expect(backoff.bound(forAttempt: 7) == .seconds(5))
        #expect(backoff.bound(forAttempt: 10_000) == .seconds(5))
    }

    @Test("delays are jittered within half to all of the bound")
    func jitter() {
        let backoff = ReconnectBackoff()
        var random = SystemRandomNumberGenerator()
        var distinct: Set<Duration> = []
        for attempt in 0..<200 {
            let bound = backoff.bound(forAttempt: attempt % 10)
            let delay = backoff.delay(forAttempt: attempt % 10, using: &random)
            #expect(delay >= bound / 2 && delay <= bound)
            distinct.insert(delay)
        }
        #expect(distinct.count > 100)
    }
}
