import NIOCore
import NIOHPACK
import TestSupport
import Testing

@testable import Transport

@Suite("Stream opening over HTTP/2", .timeLimit(.minutes(3)))
struct PeerAuthenticationTests {
    @Test("unsigned, wrongly signed, stale and replayed openings and wrong paths are refused; nothing is handled")
    func refusals() async throws {
        let handler = RecordingHandler()
        let server = PeerServer(
            configuration: Fixtures.serverConfiguration(), handler: handler, logger: Fixtures.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port!
            let unsigned: HPACKHeaders = [
                ":method": "POST", ":scheme": "http", ":path": PeerStreamHeaders.path, ":authority": "127.0.0.1",
            ]
            let forged: @Sendable () -> HPACKHeaders = {
                var headers = RawPeerStream.headers()
                headers.replaceOrAdd(name: PeerCredentials.signatureHeader, value: String(repeating: "0", count: 64))
                return headers
            }
            // Headers are made right before each opening: on a loaded machine the cases can take seconds, and a
            // timestamp computed up front would drift into the allowed skew.
            let cases: [(String, @Sendable () -> HPACKHeaders, Int)] = [
                ("no credentials", { unsigned }, 401),
                ("wrong secret", { RawPeerStream.headers(secret: PeerSecret("not-the-secret")) }, 401),
                ("forged signature", forged, 401),
                // Ten minutes out, not just past the 60 s skew: an opening "61 s ahead" that took over a second to
                // arrive on a loaded machine was inside the window by then and rightly accepted.
                ("timestamp 10 min old", { RawPeerStream.headers(timestamp: WallClock.milliseconds() - 600_000) }, 401),
                (
                    "timestamp 10 min ahead", { RawPeerStream.headers(timestamp: WallClock.milliseconds() + 600_000) },
                    401
                ),
                ("wrong path", { RawPeerStream.headers(path: "/bourse.peer/v2/stream") }, 404),
            ]
            for (name, headers, status) in cases {
                let outcome = try await RawPeerStream.open(
                    port: port, headers: headers(), frames: RawPeerStream.requestFrame())
                #expect(outcome.status == status, "\(name)")
                #expect(outcome.framesReceived == 0, "\(name)")
            }
            #expect(server.statistics.streamsRefused == cases.count)

            // The same signed opening works once, and only once.
            let valid = RawPeerStream.headers()
            let accepted = Task {
                try await RawPeerStream.open(port: port, headers: valid, frames: RawPeerStream.requestFrame())
            }
            // Only once the first opening has been accepted is the second one a replay (on a loaded machine the
            // first can take a while; opened first, the replay would be accepted and the test would hang).
            try #require(await eventually(within: .seconds(100)) { handler.requestCount == 1 })
            let replayed = try await RawPeerStream.open(
                port: port, headers: valid, frames: RawPeerStream.requestFrame())
            #expect(replayed.status == 401)
            #expect(handler.payloads == ["sneaky"], "only the accepted stream reached the handler")
            #expect(server.statistics.streamsAccepted == 1)
            #expect(server.statistics.framesReceived == 1)
            accepted.cancel()
            group.cancelAll()
        }
    }

    @Test("a client with the wrong secret gets unauthenticated errors, not timeouts")
    func wrongSecretClient() async throws {
        let handler = RecordingHandler()
        try await PeerHarness.withPeers(handler: handler, clientSecret: PeerSecret("wrong")) { server, client in
            let error = await #expect(throws: PeerTransportError.self) {
                try await client.send(PeerHarness.message("x"), deadline: .now + .seconds(20))
            }
            #expect(error?.code == .unauthenticated)
            #expect(handler.batchCount == 0)
            #expect(server.statistics.streamsAccepted == 0)
            #expect(client.statistics.refusals >= 1)
        }
    }
}
