import Foundation
import Logging
import Synchronization
import Transport

/// This node's transport clients, one per peer address, each kept open (and reconnecting) by its own task
/// until `shutdown()`: membership probes and forwarded requests share them.
final class PeerClients: Sendable {
    let identity: PeerIdentity
    let secret: PeerSecret
    let logger: Logger
    private let clients = Mutex([String: (client: PeerClient, task: Task<Void, Never>)]())

    /// Frames large enough for the biggest forwarded answer (`ForwardedRequestResponder` caps bodies at 16 MiB).
    static let maximumFrameBytes = 24 << 20

    init(identity: PeerIdentity, secret: PeerSecret, logger: Logger) {
        self.identity = identity
        self.secret = secret
        self.logger = logger
    }

    /// The client for `address` if one was made (none is made here).
    func existingClient(for address: String) -> PeerClient? { clients.withLock { $0[address]?.client } }

    /// The client for `address` (`host:port` or `[v6]:port`), created on first use; nil for an address that
    /// is not `host:port`.
    func client(for address: String) -> PeerClient? {
        if let existing = clients.withLock({ $0[address]?.client }) { return existing }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            logger.warning("peer address is not host:port", metadata: ["peer": "\(address)"])
            return nil
        }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let configuration = PeerClient.Configuration(
            host: host, port: port, identity: identity, secret: secret, maximumFrameBytes: Self.maximumFrameBytes)
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

    /// Stops every client.
    func shutdown() {
        let running = clients.withLock { clients in
            defer { clients = [:] }
            return clients.values.map(\.task)
        }
        for task in running { task.cancel() }
    }
}
