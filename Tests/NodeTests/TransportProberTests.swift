import Cluster
import Logging
import Testing
import Transport

@testable import Node

/// Membership probes over the real transport on 127.0.0.1.
@Suite(.timeLimit(.minutes(3)))
struct TransportProberTests {
    static let logger: Logger = {
        var logger = Logger(label: "bourse.prober.tests")
        logger.logLevel = .critical
        return logger
    }()

    static func member(port: Int) -> ClusterMember {
        ClusterMember(
            nodeID: "n2", peerAddress: "127.0.0.1:\(port)", apiAddress: "127.0.0.1:8080", status: .active,
            incarnation: 1, heartbeatMillis: 0)
    }

    /// A live peer's probe may wait long on a loaded machine (the full suite can stall for tens of seconds); a
    /// probe that must fail waits the short timeout.
    static func prober(secret: String, timeout: Duration = .seconds(5)) -> TransportProber {
        TransportProber(
            clients: PeerClients(
                identity: PeerIdentity(nodeID: "n1", incarnation: 7), secret: PeerSecret(secret), logger: logger),
            timeout: timeout)
    }

    @Test func aLivePeerAnswersAndAStoppedOneOrAStrangerDoesNot() async throws {
        let secret = "cluster-secret-for-tests"
        let server = PeerServer(
            configuration: .init(
                host: "127.0.0.1", port: 0, identity: PeerIdentity(nodeID: "n2", incarnation: 1),
                secret: PeerSecret(secret)),
            handler: NodePeerHandler(), logger: Self.logger)
        let serving = Task { try await server.run() }
        let port = try #require(try await server.listeningAddress.port)

        let prober = Self.prober(secret: secret, timeout: .seconds(60))
        defer { prober.clients.shutdown() }
        #expect(await prober.probe(Self.member(port: port)))
        #expect(await prober.probe(Self.member(port: port)), "a second probe over the same client")

        // A node with another cluster's secret is refused: its probe fails, the peer counts no request.
        let stranger = Self.prober(secret: "another-cluster")
        defer { stranger.clients.shutdown() }
        #expect(await !stranger.probe(Self.member(port: port)))
        #expect(server.statistics.streamsRefused >= 1)
        #expect(server.statistics.requestsReceived == 2)

        serving.cancel()
        _ = try? await serving.value
        let impatient = Self.prober(secret: secret)
        defer { impatient.clients.shutdown() }
        #expect(await !impatient.probe(Self.member(port: port)), "a stopped peer does not answer")
        #expect(await !impatient.probe(Self.member(port: 1)), "nothing listens there")
    }

    @Test func otherMessageKindsGetAnErrorReply() async throws {
        let request = PeerRequest(
            id: 1, sender: PeerIdentity(nodeID: "n1", incarnation: 1), ringVersion: 0, kind: 42,
            deadline: .now + .seconds(1), payload: .init())
        let replies = await NodePeerHandler().handle([request])
        #expect(replies.count == 1 && replies[0].isError && replies[0].requestID == 1)
    }
}
