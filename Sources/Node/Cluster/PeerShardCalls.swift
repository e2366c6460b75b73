import Actors
import NIOCore
import Trading
import Transport

/// Carries `ShardCall`s over the peer transport to the node serving each shard (`PeerKind.shardCall`): the
/// `ShardPeers` of an exchange that serves part of the shards.
struct PeerShardCalls: Sendable {
    /// The channel to the node serving a shard (`ShardKey` name); throws when no node is known to serve it.
    let channel: @Sendable (String) async throws -> any PeerChannel
    /// How long a call may take; then it fails and the caller tries again (every call may be repeated).
    var timeout: Duration = .seconds(5)

    var peers: ShardCallPeers { ShardCallPeers { try await send($0) } }

    func send(_ call: ShardCall) async throws -> ShardAnswer {
        let shard = call.shard
        let channel = try await channel(shard)
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
