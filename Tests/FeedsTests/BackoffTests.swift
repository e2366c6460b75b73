import Testing

@testable import Feeds

@Suite("Backoff")
struct BackoffTests {
    @Test("bounds double from 250 ms and stop at 30 s")
    func growsAndCaps() {
        let backoff = Backoff()
        let bounds = (0..<12).map { backoff.delay(attempt: $0, random: 0) }
        #expect(
            bounds.prefix(8) == [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8),
                .seconds(16), .seconds(30),
            ])
        #expect(bounds.dropFirst(7).allSatisfy { $0 == .seconds(30) })
        #expect(backoff.delay(attempt: 10_000, random: 0) == .seconds(30))
        #expect(backoff.delay(attempt: .max, random: 0) == .seconds(30))
    }

    @Test("jitter shortens a delay by at most its share and never exceeds the maximum")
    func jitter() {
        let backoff = Backoff()
        for attempt in 0..<20 {
            let bound = backoff.bound(attempt: attempt)
            for random in stride(from: 0.0, to: 1.0, by: 0.05) {
                let delay = backoff.delay(attempt: attempt, random: random)
                #expect(delay <= bound && delay >= bound * 0.8 && delay <= .seconds(30))
            }
        }
        #expect(backoff.delay(attempt: 2, random: 0.5) == .milliseconds(900))
    }

    @Test("odd settings stay sane: no growth below 1, jitter clamped, a small maximum wins")
    func oddSettings() {
        let flat = Backoff(initial: .seconds(1), maximum: .seconds(10), multiplier: 0.5, jitter: 3)
        #expect(flat.delay(attempt: 5, random: 0) == .seconds(1))
        #expect(flat.delay(attempt: 5, random: 0.5) == .milliseconds(500))
        let capped = Backoff(initial: .seconds(5), maximum: .seconds(1))
        #expect(capped.delay(attempt: 0, random: 0) == .seconds(1))
        let noJitter = Backoff(jitter: -1)
        #expect(noJitter.delay(attempt: 1, random: 0.9) == .milliseconds(500))
    }
}
