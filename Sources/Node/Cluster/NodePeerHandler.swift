import API
import Actors
import NIOCore
import Transport

/// Message kinds of the node's peer protocol (the transport never reads them).
enum PeerKind {
    /// A membership probe; answered with `pong`.
    static let ping: UInt16 = 1
    static let pong: UInt16 = 2
    /// A client request forwarded by a standby (payload: `ForwardedRequest`); answered with `forwarded`.
    static let forward: UInt16 = 3
    /// The answer to `forward` (payload: `ForwardedResponse`).
    static let forwarded: UInt16 = 4
    /// "Drain yourself" from the node that received the admin request; answered with `drained`.
    static let drain: UInt16 = 5
    static let drained: UInt16 = 6
    /// A `ShardCall` for a shard this node serves (payload: its encoding); answered with `shardAnswer`.
    static let shardCall: UInt16 = 7
    /// The answer to `shardCall` (payload: a `ShardAnswer`).
    static let shardAnswer: UInt16 = 8
    /// "Audit the shards you serve" for a `verify` across nodes routing by shard; answered with `audited`
    /// (payload: an `ExchangeAudit`).
    static let audit: UInt16 = 9
    static let audited: UInt16 = 10
    /// "Which shards do you serve, and where do they stand" for the shards view across nodes; answered with
    /// `shardViews` (payload: `ShardAdministration.encode(_:)`).
    static let listShards: UInt16 = 11
    static let shardViews: UInt16 = 12
}

/// What a node answers on its peer port: pings (membership probes), requests forwarded by a standby (run
/// through this node's own router, never forwarded again), drain orders, and, routing by shard, calls for the
/// shards its exchange serves and the admin questions about them (audits, shard views). Other kinds get an
/// error reply.
struct NodePeerHandler: PeerHandler {
    /// Runs forwarded requests; nil on a node that takes none (tests of the probes).
    var responder: ForwardedRequestResponder?
    /// Runs shard calls (`ShardCall`); nil on a node that takes none.
    var shards: Exchange?
    /// Drains this node (it hands its shards off, if it has any, and never takes them again).
    var drain: @Sendable () async throws -> Void = {}

    func handle(_ requests: [PeerRequest]) async -> [PeerReply] {
        if requests.count == 1 { return [await answer(requests[0])] }
        return await withTaskGroup(of: PeerReply.self) { group in
            for request in requests { group.addTask { await answer(request) } }
            var replies: [PeerReply] = []
            replies.reserveCapacity(requests.count)
            for await reply in group { replies.append(reply) }
            return replies
        }
    }

    private func answer(_ request: PeerRequest) async -> PeerReply {
        let metrics = PeerMessageMetrics.of(kind: request.kind)
        metrics.received.increment()
        let reply = await reply(to: request)
        if reply.isError { metrics.receiveErrors.increment() }
        return reply
    }

    private func reply(to request: PeerRequest) async -> PeerReply {
        switch request.kind {
        case PeerKind.ping:
            return request.reply(kind: PeerKind.pong)
        case PeerKind.forward:
            guard let responder, let forwarded = try? ForwardedRequest(decoding: request.payload) else {
                return request.failure(kind: request.kind)
            }
            return request.reply(kind: PeerKind.forwarded, payload: await responder.respond(forwarded).encoded())
        case PeerKind.shardCall:
            guard let shards, let call = try? ShardCall(decoding: Array(request.payload.readableBytesView)) else {
                return request.failure(kind: request.kind)
            }
            return request.reply(
                kind: PeerKind.shardAnswer, payload: ByteBuffer(bytes: await shards.serve(call).encoded()))
        case PeerKind.audit:
            guard let shards else { return request.failure(kind: request.kind) }
            return request.reply(kind: PeerKind.audited, payload: ByteBuffer(bytes: await shards.audit().encoded()))
        case PeerKind.listShards:
            guard let shards else { return request.failure(kind: request.kind) }
            return request.reply(
                kind: PeerKind.shardViews,
                payload: ByteBuffer(bytes: ShardAdministration.encode(await shards.servedShardViews())))
        case PeerKind.drain:
            do {
                try await drain()
                return request.reply(kind: PeerKind.drained)
            } catch {
                return request.failure(kind: PeerKind.drain, payload: ByteBuffer(string: "\(error)"))
            }
        default:
            return request.failure(kind: request.kind)
        }
    }
}
