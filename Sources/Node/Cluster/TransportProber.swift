import Cluster
import Foundation
import Logging
import NIOCore
import Synchronization
import Transport

/// Probes peers with a ping over the transport, through the node's `PeerClients` (connections stay open for
/// later probes and for forwarded requests).
struct TransportProber: PeerProber {
    let clients: PeerClients
    let timeout: Duration

    init(clients: PeerClients, timeout: Duration = .milliseconds(500)) {
        self.clients = clients
        self.timeout = timeout
    }

    /// True when the peer answered the ping within `timeout` with the right credentials.
    func probe(_ member: ClusterMember) async -> Bool {
        guard let client = clients.client(for: member.peerAddress) else { return false }
        do {
            let reply = try await client.sendCounted(
                PeerMessage(kind: PeerKind.ping, payload: ByteBuffer()), deadline: .now + timeout)
            return !reply.isError && reply.kind == PeerKind.pong
        } catch {
            return false
        }
    }
}
