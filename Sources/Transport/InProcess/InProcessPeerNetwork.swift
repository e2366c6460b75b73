import Synchronization

/// Many nodes in one process: a directory of ``PeerReceiver``s by node id, and ``LoopbackPeerChannel``s between
/// them. Unregistering a node makes calls to it fail with `.unavailable`, as if it were down.
///
/// ```swift
/// let network = InProcessPeerNetwork()
/// network.register("bourse-1", receiver: PeerReceiver(handler: node1))
/// let channel = network.channel(from: PeerIdentity(nodeID: "bourse-0", incarnation: 1), to: "bourse-1")
/// let reply = try await channel.send(message, deadline: .now + .seconds(1))
/// ```
public final class InProcessPeerNetwork: Sendable {
    private let receivers = Mutex<[String: PeerReceiver]>([:])

    /// Creates an empty network.
    public init() {}

    /// Makes `nodeID` reachable through `receiver` (replacing any earlier one).
    public func register(_ nodeID: String, receiver: PeerReceiver) {
        receivers.withLock { $0[nodeID] = receiver }
    }

    /// Makes `nodeID` unreachable.
    public func unregister(_ nodeID: String) {
        _ = receivers.withLock { $0.removeValue(forKey: nodeID) }
    }

    /// A channel from `sender` to whatever receiver `nodeID` has at the time of each call.
    public func channel(from sender: PeerIdentity, to nodeID: String) -> LoopbackPeerChannel {
        LoopbackPeerChannel(sender: sender) { [self] in receivers.withLock { $0[nodeID] } }
    }
}
