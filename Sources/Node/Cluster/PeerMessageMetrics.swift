import Metrics
import Transport

/// Inter-node messages by kind, sent and received, and those that failed (a transport error or an error
/// reply). Kinds are few (`ping`, `forward`, `drain`, `other`) so the label stays small; the counters are
/// created once and reused.
struct PeerMessageMetrics: Sendable {
    let sent: Counter
    let received: Counter
    let sendErrors: Counter
    let receiveErrors: Counter

    init(kind: String) {
        sent = Counter(label: "bourse_peer_messages_sent", dimensions: [("kind", kind)])
        received = Counter(label: "bourse_peer_messages_received", dimensions: [("kind", kind)])
        sendErrors = Counter(label: "bourse_peer_message_errors", dimensions: [("kind", kind), ("direction", "sent")])
        receiveErrors = Counter(
            label: "bourse_peer_message_errors", dimensions: [("kind", kind), ("direction", "received")])
    }

    static let ping = PeerMessageMetrics(kind: "ping")
    static let forward = PeerMessageMetrics(kind: "forward")
    static let drain = PeerMessageMetrics(kind: "drain")
    static let other = PeerMessageMetrics(kind: "other")
    static var all: [PeerMessageMetrics] { [ping, forward, drain, other] }

    /// The counters of a request kind (`PeerKind`).
    static func of(kind: UInt16) -> PeerMessageMetrics {
        switch kind {
        case PeerKind.ping: ping
        case PeerKind.forward: forward
        case PeerKind.drain: drain
        default: other
        }
    }
}

extension PeerClient {
    /// `send`, counted in `PeerMessageMetrics` by the message's kind.
    func sendCounted(_ message: PeerMessage, deadline: ContinuousClock.Instant) async throws(PeerTransportError)
        -> PeerReply
    {
        let metrics = PeerMessageMetrics.of(kind: message.kind)
        metrics.sent.increment()
        do {
            let reply = try await send(message, deadline: deadline)
            if reply.isError { metrics.sendErrors.increment() }
            return reply
        } catch {
            metrics.sendErrors.increment()
            throw error
        }
    }
}
