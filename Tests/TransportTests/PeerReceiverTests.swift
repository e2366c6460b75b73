import NIOCore
import TestSupport
import Testing

@testable import Transport

@Suite("Receiver")
struct PeerReceiverTests {
    func request(
        _ id: UInt64, _ text: String, kind: UInt16 = 1, incarnation: UInt64 = 3, timeout: Duration = .seconds(5)
    )
        -> PeerRequest
    {
        PeerRequest(
            id: id, sender: PeerIdentity(nodeID: "bourse-0", incarnation: incarnation), ringVersion: 1, kind: kind,
            deadline: .now + timeout, payload: ByteBuffer(string: text))
    }

    @Test("a batch is one handler call; a retried id gets the first reply without a second call")
    func deduplicates() async {
        let handler = RecordingHandler()
        let receiver = PeerReceiver(handler: handler)
        let first = await receiver.receive([request(1, "a"), request(2, "b")])
        #expect(handler.batchCount == 1)
        let again = await receiver.receive([request(2, "b"), request(3, "c")])
        #expect(handler.batchCount == 2)
        #expect(handler.payloads == ["a", "b", "c"], "id 2 was not handled twice")
        #expect(again.first { $0.requestID == 2 } == first.first { $0.requestID == 2 })
        #expect(receiver.statistics.duplicates == 1)
    }

    @Test("a retry of an id still being handled waits for that first result")
    func waitsForInFlight() async {
        let handler = RecordingHandler()
        let receiver = PeerReceiver(handler: handler)
        // Generous waits: in CI, beside every other suite, the child task of `first` once started more than 10 s late.
        async let first = receiver.receive([request(1, "slow", kind: RecordingHandler.gatedKind)])
        #expect(await eventually(within: .seconds(60)) { handler.batchCount == 1 })
        async let retry = receiver.receive([request(1, "slow", kind: RecordingHandler.gatedKind)])
        #expect(await eventually(within: .seconds(60)) { receiver.statistics.duplicates == 1 })
        handler.gate.open()
        let (original, repeated) = await (first, retry)
        #expect(original == repeated)
        #expect(original.first?.payload == ByteBuffer(string: "99:slow@bourse-0"))
        #expect(handler.timesHandled("slow") == 1)
    }

    @Test("a new incarnation of the sender starts a fresh window; an older one is refused")
    func incarnations() async {
        let handler = RecordingHandler()
        let receiver = PeerReceiver(handler: handler)
        _ = await receiver.receive([request(1, "old", incarnation: 3)])
        _ = await receiver.receive([request(1, "new", incarnation: 4)])
        #expect(handler.payloads == ["old", "new"], "the same id from a new incarnation is a new message")
        let stale = await receiver.receive([request(2, "zombie", incarnation: 3)])
        #expect(stale.first?.transportFailure == .staleIncarnation)
        #expect(handler.payloads == ["old", "new"])
    }

    @Test("expired requests and missing replies are answered by the transport")
    func transportAnswers() async {
        struct Silent: PeerHandler {
            func handle(_ requests: [PeerRequest]) async -> [PeerReply] { [] }
        }
        let receiver = PeerReceiver(handler: Silent())
        let replies = await receiver.receive([request(1, "late", timeout: .zero), request(2, "ignored")])
        #expect(replies.first { $0.requestID == 1 }?.transportFailure == .timeout)
        #expect(replies.first { $0.requestID == 2 }?.transportFailure == .noReply)
        #expect(receiver.statistics.expired == 1)
    }
}

@Suite("In-process transport")
struct InProcessTransportTests {
    @Test("many nodes in one process talk through loopback channels")
    func network() async throws {
        let network = InProcessPeerNetwork()
        var handlers: [String: RecordingHandler] = [:]
        for index in 0..<4 {
            let handler = RecordingHandler()
            handlers["bourse-\(index)"] = handler
            network.register("bourse-\(index)", receiver: PeerReceiver(handler: handler))
        }
        let deadline = ContinuousClock.now + .seconds(5)
        for from in 0..<4 {
            for to in 0..<4 where to != from {
                let channel: any PeerChannel = network.channel(
                    from: PeerIdentity(nodeID: "bourse-\(from)", incarnation: 1), to: "bourse-\(to)")
                let reply = try await channel.send(
                    PeerMessage(kind: 7, payload: ByteBuffer(string: "hi")), deadline: deadline)
                #expect(reply.payload == ByteBuffer(string: "7:hi@bourse-\(from)"))
                #expect(reply.kind == 8)
            }
        }
        #expect(handlers.values.allSatisfy { $0.requestCount == 3 })

        let batch = await network.channel(from: Fixtures.clientIdentity, to: "bourse-1").send(
            (0..<5).map { PeerMessage(kind: 1, payload: ByteBuffer(string: "m\($0)")) }, deadline: deadline)
        #expect(try batch.map { try $0.get().payload } == (0..<5).map { ByteBuffer(string: "1:m\($0)@bourse-0") })
        #expect(handlers["bourse-1"]!.batchCount == 4, "three single calls, then one call for the whole batch")

        network.unregister("bourse-2")
        let error = await #expect(throws: PeerTransportError.self) {
            try await network.channel(from: Fixtures.clientIdentity, to: "bourse-2").send(
                PeerMessage(kind: 1, payload: ByteBuffer()), deadline: deadline)
        }
        #expect(error?.code == .unavailable)
    }
}
