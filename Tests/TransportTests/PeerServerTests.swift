import NIOCore
import NIOHPACK
import TestSupport
import Testing

@testable import Transport

@Suite("Server and client over HTTP/2", .timeLimit(.minutes(3)))
struct PeerServerTests {
    @Test("many concurrent calls: each reply reaches its own caller, in fewer frames than requests")
    func concurrentCalls() async throws {
        let handler = RecordingHandler()
        try await PeerHarness.withPeers(handler: handler) { server, client in
            let count = 1_000
            let replies = try await withThrowingTaskGroup(of: (Int, PeerReply).self) { group in
                for index in 0..<count {
                    group.addTask {
                        let message = PeerHarness.message("req-\(index)", kind: UInt16(index % 50))
                        return (index, try await client.send(message, deadline: .now + .seconds(30)))
                    }
                }
                var replies: [Int: PeerReply] = [:]
                for try await (index, reply) in group { replies[index] = reply }
                return replies
            }
            #expect(replies.count == count)
            for (index, reply) in replies {
                #expect(Fixtures.text(reply.payload) == "\(index % 50):req-\(index)@bourse-0")
                #expect(reply.kind == UInt16(index % 50) + 1)
                #expect(reply.ringVersion == 5)
                #expect(!reply.isError)
            }
            let stats = server.statistics
            #expect(handler.requestCount == count)
            #expect(stats.requestsReceived == count)
            #expect(stats.repliesSent == count)
            #expect(stats.framesReceived < count, "requests were coalesced into frames")
            #expect(handler.batchCount == stats.framesReceived, "one handler call per frame")
            #expect(client.statistics.framesSent == stats.framesReceived)
            #expect(client.statistics.framesReceived == stats.framesSent)
        }
    }

    @Test("calls queued before the stream opens leave in one frame and reach the handler as one batch")
    func queuedCallsShareAFrame() async throws {
        let handler = RecordingHandler()
        let server = PeerServer(
            configuration: Fixtures.serverConfiguration(), handler: handler, logger: Fixtures.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port!
            let client = try PeerClient(
                configuration: Fixtures.clientConfiguration(port: port), logger: Fixtures.logger)
            let calls = Task {
                try await withThrowingTaskGroup(of: String.self) { calls in
                    for index in 0..<200 {
                        calls.addTask {
                            let reply = try await client.send(
                                PeerHarness.message("q\(index)"), deadline: .now + .seconds(30))
                            return Fixtures.text(reply.payload)
                        }
                    }
                    return try await calls.reduce(into: Set<String>()) { $0.insert($1) }
                }
            }
            #expect(await eventually(within: .seconds(60)) { client.pendingCalls == 200 })
            group.addTask { try await client.run() }
            let texts = try await calls.value
            #expect(texts == Set((0..<200).map { "1:q\($0)@bourse-0" }))
            #expect(server.statistics.framesReceived == 1)
            #expect(handler.batchCount == 1)
            group.cancelAll()
        }
    }

    @Test("a batch send is one frame and one handler call, with replies in message order")
    func batchSend() async throws {
        let handler = RecordingHandler()
        try await PeerHarness.withPeers(handler: handler) { server, client in
            let messages = (0..<64).map { PeerHarness.message("b\($0)") }
            let results = await client.send(messages, deadline: .now + .seconds(60))
            let texts = try results.map { Fixtures.text(try $0.get().payload) }
            #expect(texts == (0..<64).map { "1:b\($0)@bourse-0" })
            #expect(handler.batchCount == 1)
            #expect(server.statistics.framesReceived == 1)
        }
    }

    @Test("a call whose deadline passes fails with a timeout; the late reply is dropped")
    func deadlineExpiry() async throws {
        let handler = RecordingHandler()
        try await PeerHarness.withPeers(handler: handler) { server, client in
            // The request reaches the handler, which holds it past the caller's deadline. 15 s: on a starved CI
            // machine (every suite at once on 2 cores) the connection and the send took more than 5 s, and a
            // request whose deadline has passed is never handed to the handler.
            let call = Task {
                try await client.send(
                    PeerHarness.message("slow", kind: RecordingHandler.gatedKind), deadline: .now + .seconds(15))
            }
            #expect(await eventually(within: .seconds(60)) { handler.requestCount == 1 })
            let error = await #expect(throws: PeerTransportError.self) { try await call.value }
            #expect(error?.code == .timeout)
            #expect(client.pendingCalls == 0)
            handler.gate.open()
            // The late reply goes out and the client drops it (the next call gets its own reply).
            #expect(await eventually(within: .seconds(60)) { server.statistics.repliesSent == 1 })
            let reply = try await client.send(PeerHarness.message("after"), deadline: .now + .seconds(60))
            #expect(Fixtures.text(reply.payload) == "1:after@bourse-0")
        }
    }

    @Test("inline kinds (probes) are answered on the event loop while every batch slot is busy")
    func inlineKindsSkipTheQueue() async throws {
        let handler = RecordingHandler()
        var configuration = Fixtures.serverConfiguration()
        configuration.maximumConcurrentBatchesPerStream = 1
        configuration.inlineKinds = [7]
        let server = PeerServer(configuration: configuration, handler: handler, logger: Fixtures.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port!
            let client = try PeerClient(
                configuration: Fixtures.clientConfiguration(port: port), logger: Fixtures.logger)
            group.addTask { try await client.run() }
            // The only batch slot is taken by a request its handler holds.
            let held = Task {
                try await client.send(
                    PeerHarness.message("held", kind: RecordingHandler.gatedKind), deadline: .now + .seconds(60))
            }
            #expect(await eventually(within: .seconds(60)) { handler.requestCount == 1 })
            let probe = try await client.send(PeerHarness.message("ping", kind: 7), deadline: .now + .seconds(60))
            #expect(Fixtures.text(probe.payload) == "7:ping@bourse-0")
            #expect(handler.handledOnEventLoop("ping") == true, "answered on the connection's event loop")
            #expect(handler.handledOnEventLoop("held") == false, "other kinds run on the global pool")
            handler.gate.open()
            #expect(Fixtures.text(try await held.value.payload) == "99:held@bourse-0")
            group.cancelAll()
        }
    }

    @Test("a message larger than a frame is refused before it is sent")
    func oversizedMessage() async throws {
        try await PeerHarness.withPeers(handler: RecordingHandler()) { server, client in
            let huge = PeerMessage(
                kind: 1, payload: ByteBuffer(repeating: 1, count: PeerFrameFormat.defaultMaximumFrameBytes))
            let error = await #expect(throws: PeerTransportError.self) {
                try await client.send(huge, deadline: .now + .seconds(5))
            }
            #expect(error?.code == .messageTooLarge)
            #expect(server.statistics.requestsReceived == 0)
        }
    }

    @Test("the client stops cleanly: new calls are refused and run() returns")
    func clientGracefulShutdown() async throws {
        let server = PeerServer(
            configuration: Fixtures.serverConfiguration(), handler: RecordingHandler(), logger: Fixtures.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port!
            let client = try PeerClient(
                configuration: Fixtures.clientConfiguration(port: port), logger: Fixtures.logger)
            let run = Task { try await client.run() }
            _ = try await client.send(PeerHarness.message("one"), deadline: .now + .seconds(60))
            client.triggerGracefulShutdown()
            try await run.value
            let error = await #expect(throws: PeerTransportError.self) {
                try await client.send(PeerHarness.message("two"), deadline: .now + .seconds(60))
            }
            #expect(error?.code == .shutdown)
            group.cancelAll()
        }
    }
}
