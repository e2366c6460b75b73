import Actors
import NIOCore
import Trading
import Transport

/// Carries `ShardCall`s over the peer transport to the node serving each shard (`PeerKind.shardCall`): the
/// `ShardPeers` of an exchange that serves part of the shards.
struct PeerShardCalls: Sendable {
    /// The channel to the node serving the call's shard; throws when no node is known to serve it.
    let channel: @Sendable (ShardCall) async throws -> any PeerChannel
    /// How long a call may take; then it fails and the caller tries again (every call may be repeated).
    var timeout: Duration = .seconds(5)
    /// How long a book call (place, cancel, amend, quote, strategies: a client waits for it) or an account call (a
    /// strategy's or paper liquidity's order for a user whose account lives elsewhere) is tried again, every 20 ms,
    /// while nothing ran: no node serves the book (a move under way: `channel` finds no owner, or the owner
    /// answers `unavailable`, which it does only for what it did not apply). A call that may have run (no
    /// answer) is not sent again here. Deliveries to account shards are not: a book sends them one at a time,
    /// and keeps and redelivers those that fail.
    var retryWindow: Duration = .seconds(5)

    var peers: ShardCallPeers { ShardCallPeers { try await send($0) } }

    func send(_ call: ShardCall) async throws -> ShardAnswer {
        let deadline: ContinuousClock.Instant
        switch call {
        case .place, .submit, .quote, .account, .strategy: deadline = .now + retryWindow
        case .deliver, .awaitDurable: deadline = .now
        }
        while true {
            let answer: ShardAnswer
            do {
                answer = try await sendOnce(call)
            } catch let refused as NotSent where ContinuousClock.now < deadline {
                _ = refused
                try await Task.sleep(for: .milliseconds(20))
                continue
            } catch let refused as NotSent {
                throw refused.error
            }
            if case .failed(let error) = answer, error.code == .unavailable, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            return answer
        }
    }

    /// The call was not sent (no node to send it to).
    private struct NotSent: Error {
        var error: any Error
    }

    private func sendOnce(_ call: ShardCall) async throws -> ShardAnswer {
        let shard = call.shard
        let channel: any PeerChannel
        do {
            channel = try await self.channel(call)
        } catch {
            throw NotSent(error: error)
        }
        let reply: PeerReply
        do {
            reply = try await channel.send(
                PeerMessage(kind: PeerKind.shardCall, payload: ByteBuffer(bytes: call.encoded())),
                deadline: .now + timeout)
        } catch {
            throw BourseError(.unavailable, "\(shard) could not be reached: \(error)")
        }
        guard !reply.isError, reply.kind == PeerKind.shardAnswer else {
            throw BourseError(.unavailable, "\(shard): the call was refused")
        }
        return try ShardAnswer(decoding: Array(reply.payload.readableBytesView))
    }
}
