import Synchronization
import TestSupport
import Testing

/// The polling helper the suites wait with: it must say "not in time" when the condition never holds, else a
/// test that waits for something that never happens would pass.
@Suite("Polling helper")
struct PollingTests {
    @Test func aConditionThatNeverHoldsIsNotInTime() async {
        let checks = Atomic<Int>(0)
        let started = ContinuousClock.now
        let waited = await waitUntil(within: .milliseconds(100), every: .milliseconds(10)) {
            checks.add(1, ordering: .relaxed)
            return false
        }
        #expect(waited == nil)
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        #expect(checks.load(ordering: .relaxed) >= 2)
        #expect(await eventually(within: .milliseconds(50)) { false } == false)
    }

    @Test func aConditionThatComesToHoldIsSeenWithHowLongItTook() async throws {
        let holdsAt = ContinuousClock.now + .milliseconds(50)
        let waited = try #require(await waitUntil(within: .seconds(10)) { ContinuousClock.now >= holdsAt })
        // Only a lower bound: a starved test process may see it much later (22 s in one CI run).
        #expect(waited >= .milliseconds(50))
        #expect(await eventually(within: .seconds(10)) { true })
    }

    @Test func anErrorOfTheConditionEndsTheWait() async {
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await waitUntil(within: .seconds(10)) { throw Refused() }
        }
    }
}
