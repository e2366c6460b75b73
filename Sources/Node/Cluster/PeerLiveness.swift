import NIOCore
import Transport

/// Whether a node a request was forwarded to can still answer it.
enum PeerLiveness {
    /// Pings a forwarded request's target may miss in a row before it is taken for gone.
    static let pingsMissed = 2

    /// Throws once a request forwarded to `node` can no longer expect an answer, so that the client gets its 503
    /// in seconds instead of at the transport's deadline (15 s): when `node` does not answer pings over the
    /// transport (dead, partitioned, frozen) — after `patience`, then `pingsMissed` pings of `patience` each
    /// missed in a row. A node that still answers (a drain: the admin request waits for the handoff it starts)
    /// is waited for. The request may have run on the target before it went silent; clients retry with the
    /// same idempotency key or client order id, which the exchange deduplicates.
    static func watch(_ node: String, client: PeerClient, patience: Duration) async throws {
        var nextPing = ContinuousClock.now + patience
        var missed = 0
        while true {
            try await Task.sleep(until: nextPing)
            let answered: Bool
            do {
                let reply = try await client.sendCounted(
                    PeerMessage(kind: PeerKind.ping, payload: ByteBuffer()), deadline: .now + patience)
                answered = !reply.isError && reply.kind == PeerKind.pong
            } catch {
                try Task.checkCancellation()
                answered = false
            }
            missed = answered ? 0 : missed + 1
            guard missed < pingsMissed else {
                throw ActiveRole.ForwardingFailed(description: "\(node) stopped answering")
            }
            nextPing = ContinuousClock.now + patience
        }
    }

    /// Sends `payload` as a forwarded request to `node` and returns its answer, or throws when it fails or
    /// `node` stops answering pings (`watch`) first.
    static func forward(
        _ payload: ByteBuffer, to node: String, client: PeerClient, timeout: Duration, patience: Duration
    ) async throws -> ForwardedReply {
        try await withThrowingTaskGroup(of: ForwardedReply?.self) { group in
            group.addTask {
                let reply: PeerReply
                do {
                    reply = try await client.sendCounted(
                        PeerMessage(kind: PeerKind.forward, payload: payload), deadline: .now + timeout)
                } catch {
                    throw ActiveRole.ForwardingFailed(description: "the request to \(node) failed: \(error)")
                }
                guard !reply.isError, reply.kind == PeerKind.forwarded else {
                    throw ActiveRole.ForwardingFailed(description: "\(node) did not take the request")
                }
                return ForwardedReply(payload: reply.payload)
            }
            group.addTask {
                try await watch(node, client: client, patience: patience)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let reply = first else {
                throw ActiveRole.ForwardingFailed(description: "\(node) did not answer")
            }
            return reply
        }
    }

    /// The payload of a forwarded request's answer.
    struct ForwardedReply: Sendable {
        var payload: ByteBuffer
    }
}
