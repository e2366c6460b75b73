import NIOCore
import Testing

@testable import Transport

@Suite("Client call table")
struct PeerCallTableTests {
    typealias Table = PeerCallTable<String, String, String>
    let now = ContinuousClock.now

    func message(_ text: String) -> PeerMessage {
        PeerMessage(kind: 1, ringVersion: 9, payload: ByteBuffer(string: text))
    }

    func ids(_ outbound: Table.Outbound) -> [UInt64] {
        if case .envelopes(let envelopes) = outbound { return envelopes.map(\.id) }
        return []
    }

    @Test("calls queued while the writer is busy leave together in its next frame")
    func coalescing() {
        var table = Table(sender: Fixtures.clientIdentity, maximumFrameBytes: 1 << 20)
        table.connectionEstablished()
        #expect(table.nextOutbound(writer: "w", now: now).isParked)
        let first = table.addSingle(id: 1, message: message("a"), deadline: now + .seconds(5), waiter: "a", now: now)
        #expect(first.wake?.envelopes?.map(\.id) == [1], "an idle writer is woken at once, no timer")
        for id in UInt64(2)...4 {
            let actions = table.addSingle(
                id: id, message: message("m"), deadline: now + .seconds(5), waiter: "c\(id)", now: now)
            #expect(actions.wake == nil, "the writer is busy: the call waits in the queue")
        }
        #expect(ids(table.nextOutbound(writer: "w", now: now)) == [2, 3, 4])
    }

    @Test("replies complete their callers; unknown ids are ignored")
    func replies() throws {
        var table = Table(sender: Fixtures.clientIdentity, maximumFrameBytes: 1 << 20)
        _ = table.addSingle(id: 1, message: message("a"), deadline: now + .seconds(5), waiter: "a", now: now)
        _ = table.addSingle(id: 2, message: message("b"), deadline: now + .seconds(5), waiter: "b", now: now)
        let reply = PeerReply(requestID: 2, kind: 3, payload: ByteBuffer(string: "two")).envelope(
            from: Fixtures.serverIdentity)
        let unknown = PeerReply(requestID: 77, kind: 3, payload: ByteBuffer()).envelope(from: Fixtures.serverIdentity)
        let actions = table.receive([reply, unknown])
        #expect(actions.completions.count == 1)
        guard case .single(let waiter, let outcome) = actions.completions.first else { return }
        #expect(waiter == "b")
        #expect(try outcome.get().payload == ByteBuffer(string: "two"))
        #expect(table.pendingCount == 1)
    }

    @Test("after a drop every unanswered call goes out again with its id, oldest first")
    func resendAfterReconnect() {
        var table = Table(sender: Fixtures.clientIdentity, maximumFrameBytes: 1 << 20)
        table.connectionEstablished()
        for id in UInt64(1)...3 {
            _ = table.addSingle(id: id, message: message("m"), deadline: now + .seconds(5), waiter: "\(id)", now: now)
        }
        #expect(ids(table.nextOutbound(writer: "w", now: now)) == [1, 2, 3])
        _ = table.receive([
            PeerReply(requestID: 2, kind: 0, payload: ByteBuffer()).envelope(from: Fixtures.serverIdentity)
        ])
        _ = table.connectionLost()
        _ = table.addSingle(id: 4, message: message("m"), deadline: now + .seconds(5), waiter: "4", now: now)
        #expect(table.nextOutbound(writer: "w", now: now).isStop, "no writing while disconnected")
        table.connectionEstablished()
        #expect(ids(table.nextOutbound(writer: "w", now: now)) == [1, 3, 4])
    }

    @Test("failing the calls of one kind completes them and leaves the others waiting")
    func failingOneKind() throws {
        var table = Table(sender: Fixtures.clientIdentity, maximumFrameBytes: 1 << 20)
        table.connectionEstablished()
        _ = table.addSingle(id: 1, message: message("a"), deadline: now + .seconds(5), waiter: "a", now: now)
        _ = table.addSingle(
            id: 2, message: PeerMessage(kind: 7, payload: ByteBuffer()), deadline: now + .seconds(5), waiter: "b",
            now: now)
        let actions = table.failAll(.unavailable, reason: "gone") { $0.kind == 7 }
        #expect(actions.completions.count == 1)
        guard case .single(let waiter, let outcome) = actions.completions.first else { return }
        #expect(waiter == "b")
        #expect(throws: PeerTransportError.self) { try outcome.get() }
        #expect(table.pendingCount == 1)
        #expect(ids(table.nextOutbound(writer: "w", now: now)) == [1], "the failed call is not sent")
    }

    @Test("the timer times out due calls only and re-arms for the next deadline")
    func deadlines() {
        var table = Table(sender: Fixtures.clientIdentity, maximumFrameBytes: 1 << 20)
        let early = table.addSingle(id: 1, message: message("a"), deadline: now + .seconds(1), waiter: "a", now: now)
        let late = table.addSingle(id: 2, message: message("b"), deadline: now + .seconds(2), waiter: "b", now: now)
        #expect(late.arm == nil, "a later deadline does not re-arm")
        let generation = early.arm!.generation
        let fired = table.timerFired(generation: generation, now: now + .seconds(1))
        #expect(fired.completions.count == 1)
        if case .single(let waiter, .failure(let error)) = fired.completions.first {
            #expect(waiter == "a")
            #expect(error.code == .timeout)
        } else {
            Issue.record("expected a timeout")
        }
        #expect(fired.arm?.deadline == now + .seconds(2))
        #expect(table.timerFired(generation: generation, now: now + .seconds(3)).completions.isEmpty, "stale timer")
    }

    @Test("a batch completes once, with results in the order of its messages")
    func batches() throws {
        var table = Table(sender: Fixtures.clientIdentity, maximumFrameBytes: 200)
        let big = PeerMessage(kind: 1, payload: ByteBuffer(repeating: 0, count: 500))
        let added = table.addBatch(
            id: 100, ids: [1, 2, 3], messages: [message("a"), big, message("c")], deadline: now + .seconds(5),
            waiter: "batch", now: now)
        #expect(added.completions.isEmpty)
        let server = Fixtures.serverIdentity
        #expect(
            table.receive([PeerReply(requestID: 3, kind: 0, payload: ByteBuffer(string: "c")).envelope(from: server)])
                .completions.isEmpty)
        let done = table.receive([
            PeerReply(requestID: 1, kind: 0, payload: ByteBuffer(string: "a")).envelope(from: server)
        ])
        guard case .batch(let waiter, let outcomes) = done.completions.first else {
            Issue.record("expected the batch to complete")
            return
        }
        #expect(waiter == "batch")
        #expect(try outcomes[0].get().payload == ByteBuffer(string: "a"))
        #expect(throws: PeerTransportError.self) { try outcomes[1].get() }
        #expect(try outcomes[2].get().payload == ByteBuffer(string: "c"))
    }

    @Test("draining refuses new calls and stops the writer once the last reply is in")
    func draining() {
        var table = Table(sender: Fixtures.clientIdentity, maximumFrameBytes: 1 << 20)
        table.connectionEstablished()
        _ = table.addSingle(id: 1, message: message("a"), deadline: now + .seconds(5), waiter: "a", now: now)
        _ = table.nextOutbound(writer: "w", now: now)
        #expect(table.nextOutbound(writer: "w", now: now).isParked)
        #expect(table.drain().wake == nil)
        let refused = table.addSingle(id: 2, message: message("b"), deadline: now + .seconds(5), waiter: "b", now: now)
        if case .single(_, .failure(let error)) = refused.completions.first {
            #expect(error.code == .shutdown)
        } else {
            Issue.record("expected a refusal")
        }
        let last = table.receive([
            PeerReply(requestID: 1, kind: 0, payload: ByteBuffer()).envelope(from: Fixtures.serverIdentity)
        ])
        #expect(last.wake?.writer == "w")
        #expect(last.wake?.envelopes == nil)
        #expect(table.isDrained)
    }

    @Test("the remaining time goes on the wire in whole milliseconds, rounded up")
    func remainingMilliseconds() {
        #expect(Table.milliseconds(from: now, to: now + .microseconds(1)) == 1)
        #expect(Table.milliseconds(from: now, to: now + .milliseconds(1_500)) == 1_500)
        #expect(Table.milliseconds(from: now, to: now - .seconds(1)) == 1)
        #expect(Table.milliseconds(from: now, to: now + .seconds(100_000_000)) == UInt32.max)
    }
}

extension PeerCallTable.Outbound {
    var isParked: Bool { if case .parked = self { true } else { false } }
    var isStop: Bool { if case .stop = self { true } else { false } }
}
