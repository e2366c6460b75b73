import Cluster
import Foundation
import Logging
import NIOCore
import Synchronization
import Transport

/// Message kinds of the node's peer protocol (the transport never reads them).
enum PeerKind {
    static let ping: UInt16 = 1
    static let pong: UInt16 = 2
}

/// What a node answers on its peer port: pings (membership probes). Other kinds get an error reply until
/// the routing work adds the shard messages.
struct NodePeerHandler: PeerHandler {
    func handle(_ requests: [PeerRequest]) async -> [PeerReply] {
        requests.map { request in
            request.kind == PeerKind.ping ? request.reply(kind: PeerKind.pong) : request.failure(kind: request.kind)
        }
    }
}

/// Probes peers with a ping over the transport: one `PeerClient` per peer address, kept for later probes
/// (its connection stays open), each run by one task until `shutdown()`.
final class TransportProber: PeerProber {
    let identity: PeerIdentity
    let secret: PeerSecret
    let timeout: Duration
    let logger: Logger
    private let clients = Mutex([String: (client: PeerClient, task: Task<Void, Never>)]())

    init(identity: PeerIdentity, secret: PeerSecret, timeout: Duration = .milliseconds(500), logger: Logger) {
        self.identity = identity
        self.secret = secret
        self.timeout = timeout
        self.logger = logger
    }

    /// True when the peer answered the ping within `timeout` with the right credentials.
    func probe(_ member: ClusterMember) async -> Bool {
        guard let client = client(for: member.peerAddress) else { return false }
        do {
            let reply = try await client.send(
                PeerMessage(kind: PeerKind.ping, payload: ByteBuffer()), deadline: .now + timeout)
            return !reply.isError && reply.kind == PeerKind.pong
        } catch {
            return false
        }
    }

    /// Stops every client.
    func shutdown() {
        let running = clients.withLock { clients in
            defer { clients = [:] }
            return clients.values.map(\.task)
        }
        for task in running { task.cancel() }
    }

    private func client(for address: String) -> PeerClient? {
        if let existing = clients.withLock({ $0[address]?.client }) { return existing }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            logger.warning("peer address is not host:port", metadata: ["peer": "\(address)"])
            return nil
        }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let configuration = PeerClient.Configuration(host: host, port: port, identity: identity, secret: secret)
        guard let client = try? PeerClient(configuration: configuration, logger: logger) else { return nil }
        return clients.withLock { clients in
            if let raced = clients[address] { return raced.client }
            let logger = self.logger
            let task = Task {
                do {
                    try await client.run()
                } catch {
                    logger.debug("peer client stopped", metadata: ["peer": "\(address)", "error": "\(error)"])
                }
            }
            clients[address] = (client, task)
            return client
        }
    }
}
