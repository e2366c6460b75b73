import Logging
import NIOCore

@testable import Transport

/// Runs a real server and client on 127.0.0.1 for the length of `body`, then stops both.
enum PeerHarness {
    static func withPeers(
        handler: some PeerHandler, clientSecret: PeerSecret = Fixtures.secret,
        _ body: (PeerServer, PeerClient) async throws -> Void
    ) async throws {
        let server = PeerServer(
            configuration: Fixtures.serverConfiguration(), handler: handler, logger: Fixtures.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port!
            let client = try PeerClient(
                configuration: Fixtures.clientConfiguration(port: port, secret: clientSecret), logger: Fixtures.logger)
            group.addTask { try await client.run() }
            try await body(server, client)
            group.cancelAll()
        }
    }

    static func message(_ text: String, kind: UInt16 = 1) -> PeerMessage {
        PeerMessage(kind: kind, ringVersion: 2, payload: ByteBuffer(string: text))
    }
}
