import NIOCore
import Testing

@testable import Transport

@Suite("Receiver deduplication window")
struct ReplayWindowTests {
    let start = ContinuousClock.now

    func reply(_ id: UInt64, _ text: String = "r") -> PeerReply {
        PeerReply(requestID: id, kind: 1, payload: ByteBuffer(string: text))
    }

    @Test("a new id is handled, a repeat gets the kept reply")
    func cachedReplies() {
        var window = ReplayWindow<Int>(incarnation: 1, capacity: 10)
        #expect(window.claim(5) == .handle)
        #expect(window.claim(5) == .inFlight)
        #expect(window.complete(5, reply: reply(5, "first"), expiry: start + .seconds(10), now: start).isEmpty)
        #expect(window.claim(5) == .cached(reply(5, "first")))
        #expect(window.keptReplies == 1)
    }

    @Test("waiters for an id in flight get its first result")
    func waiters() {
        var window = ReplayWindow<Int>(incarnation: 1, capacity: 10)
        _ = window.claim(5)
        #expect(window.addWaiter(100, for: 5) == nil)
        #expect(window.addWaiter(101, for: 5) == nil)
        #expect(window.complete(5, reply: reply(5), expiry: start + .seconds(1), now: start) == [100, 101])
        #expect(window.addWaiter(102, for: 5) == reply(5), "answered at once after completion")
    }

    @Test("replies are dropped after their expiry and beyond the capacity, oldest first")
    func eviction() {
        var window = ReplayWindow<Int>(incarnation: 1, capacity: 3)
        for id in UInt64(1)...4 {
            _ = window.claim(id)
            _ = window.complete(id, reply: reply(id), expiry: start + .seconds(Int64(id)), now: start)
        }
        #expect(window.keptReplies == 3)
        #expect(window.claim(1) == .handle, "evicted by capacity")
        #expect(window.claim(2) == .cached(reply(2)))
        window.evict(now: start + .seconds(3))
        #expect(window.claim(2) == .handle, "expired")
        #expect(window.claim(3) == .handle, "expired")
        #expect(window.claim(4) == .cached(reply(4)))
    }

    @Test("ids in flight are never evicted")
    func inFlightSurvivesEviction() {
        var window = ReplayWindow<Int>(incarnation: 1, capacity: 1)
        _ = window.claim(1)
        for id in UInt64(2)...5 {
            _ = window.claim(id)
            _ = window.complete(id, reply: reply(id), expiry: start, now: start + .seconds(1))
        }
        #expect(window.claim(1) == .inFlight)
    }

    @Test("closing the window hands back every waiter")
    func close() {
        var window = ReplayWindow<Int>(incarnation: 1, capacity: 10)
        _ = window.claim(1)
        _ = window.claim(2)
        _ = window.addWaiter(10, for: 1)
        _ = window.addWaiter(20, for: 2)
        let waiting = window.close().map(\.waiter).sorted()
        #expect(waiting == [10, 20])
        #expect(window.isEmpty)
    }
}

extension ReplayWindow.Claim: Equatable {
    public static func == (left: Self, right: Self) -> Bool {
        switch (left, right) {
        case (.handle, .handle), (.inFlight, .inFlight): true
        case (.cached(let a), .cached(let b)): a == b
        default: false
        }
    }
}
