import Actors
import Cluster
import NIOCore
import Trading
import Transport

/// The admin API of a cluster node routing by shard. Admin requests run where they arrive, except a market's
/// halt and resume, which the router sends to its book's owner (`RequestRoute.market`). The views and `verify`
/// are gathered from every live member over the transport: each answers for the shards it serves.
struct ShardAdministration: ExchangeAdministration {
    let exchange: Exchange
    let nodeID: String
    let membership: MembershipRunner
    let peers: PeerClients
    /// Drains this node: it leaves the assignment and hands off what it serves.
    let drainHere: @Sendable () async throws -> Void
    /// How long a member may take to answer an audit (it audits every shard it serves).
    var auditTimeout: Duration = .seconds(15)
    /// How long a member may take to list its shards. Short: a member killed a moment ago is still in the
    /// view, and the transport tries to reach it until the deadline; its shards then show the lease's owner.
    var listTimeout: Duration = .seconds(2)

    /// Members from the membership table; each one's shards as the assignment gives them.
    func clusterStatus() async throws -> Actors.ClusterView {
        let local = try await exchange.clusterStatus()
        let view = membership.view
        let ready = await exchange.isReady()
        var members: [Actors.ClusterMember] = []
        for member in view.members where member.status != .dead {
            let status =
                switch member.status {
                case .joining: "joining"
                case .leaving: "draining"
                default: member.nodeID == nodeID && !ready ? "starting" : "serving"
                }
            members.append(
                Actors.ClusterMember(
                    id: member.nodeID, apiAddress: member.apiAddress, status: status,
                    shards: view.assignment?.shards(ownedBy: member.nodeID).count ?? 0))
        }
        return Actors.ClusterView(
            nodeID: nodeID, ringVersion: UInt64(max(0, view.version)), members: members,
            symbolShards: local.symbolShards, accountShards: local.accountShards)
    }

    /// Every shard, owned as the leases say; journal and snapshot positions from the node that serves it (a
    /// shard nobody serves at the moment keeps the lease's owner and this node's last knowledge of it).
    func shards() async throws -> [ShardView] {
        var served: [String: ShardView] = [:]
        for view in await exchange.servedShardViews() { served[view.shard] = view }
        let (answers, _) = await ask(PeerKind.listShards, expecting: PeerKind.shardViews, within: listTimeout) {
            try Self.decode($0)
        }
        for views in answers {
            for view in views where served[view.shard] == nil { served[view.shard] = view }
        }
        return try await exchange.shards().map { shard in
            var shard = served[shard.shard] ?? shard
            shard.owner = ActiveRole.nodeID(ofOwner: shard.owner)
            return shard
        }
    }

    func drain(node: String) async throws {
        if node == nodeID { return try await drainHere() }
        try await NodeAdministration.drain(peer: node, membership: membership, peers: peers)
    }

    /// Writes the move into the assignment and answers; the shard's owners hand it off and take it as they
    /// follow the assignment (`GET shards` shows the new owner once its lease is taken).
    func moveShard(_ shard: String, to node: String) async throws {
        try NodeAdministration.checkMove(shard, to: node, exchange: exchange, membership: membership)
        try await membership.move(shard, to: node)
    }

    /// Stores the market and adds its shard to the assignment: the member it lands on takes and serves it, and
    /// every node loads it from the store as its ownership runner adopts that assignment.
    func addMarket(_ spec: MarketSpec) async throws -> MarketInfo {
        let shard = ShardKey.symbol(spec.symbol)
        let market: MarketInfo
        do {
            market = try await exchange.addMarket(spec)
        } catch let error as BourseError where error.code == .conflict && exchange.isKnownShard(shard) {
            // An earlier add of it may have stopped before the assignment took its shard: finish that.
            try? await membership.addShard(shard)
            throw error
        }
        try await membership.addShard(shard)
        return market
    }

    /// Runs on the book's owner (the router sends it there); anywhere else the book is not served and the
    /// exchange says so.
    func setHalted(symbol: String, halted: Bool) async throws {
        try await exchange.setHalted(symbol: symbol, halted: halted)
    }

    /// `verify` over the audits of every live member, this one's included; a member that does not answer is
    /// named in the report, and the shards it serves count as unaudited.
    func verify() async -> InvariantReport {
        await exchange.verify(gathering: {
            async let local = exchange.audit()
            let (answers, unreachable) = await ask(PeerKind.audit, expecting: PeerKind.audited, within: auditTimeout) {
                try ExchangeAudit(decoding: Array($0.readableBytesView))
            }
            return (answers + [await local], unreachable)
        })
    }

    /// Asks every other live member the same question at once; their decoded answers, and who did not answer.
    private func ask<Answer: Sendable>(
        _ kind: UInt16, expecting answerKind: UInt16, within timeout: Duration,
        decode: @escaping @Sendable (ByteBuffer) throws -> Answer
    ) async -> (answers: [Answer], unreachable: [String]) {
        let others = membership.view.members.filter { $0.nodeID != nodeID && $0.status != .dead }
        let peers = self.peers
        let deadline = ContinuousClock.now + timeout
        return await withTaskGroup(of: (String, Answer?).self) { group in
            for member in others {
                group.addTask {
                    guard let client = peers.client(for: member.peerAddress),
                        let reply = try? await client.sendCounted(
                            PeerMessage(kind: kind, payload: ByteBuffer()), deadline: deadline),
                        !reply.isError, reply.kind == answerKind
                    else { return (member.nodeID, nil) }
                    return (member.nodeID, try? decode(reply.payload))
                }
            }
            var answers: [Answer] = []
            var unreachable: [String] = []
            for await (node, answer) in group {
                if let answer { answers.append(answer) } else { unreachable.append(node) }
            }
            return (answers, unreachable)
        }
    }

    /// Shard views in the peer protocol's binary form.
    static func encode(_ views: [ShardView]) -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 64 * views.count + 8)
        writer.writeCount(views.count)
        for view in views {
            writer.write(view.shard)
            writer.write(view.owner)
            writer.write(view.epoch)
            writer.write(view.journalSequence)
            writer.write(view.durableSequence)
            writer.write(view.lastSnapshotSequence)
        }
        return writer.bytes
    }

    static func decode(_ buffer: ByteBuffer) throws -> [ShardView] {
        var reader = BinaryReader(Array(buffer.readableBytesView))
        var views: [ShardView] = []
        for _ in 0..<(try reader.readCount(minimumElementSize: 48)) {
            views.append(
                ShardView(
                    shard: try reader.readString(), owner: try reader.readString(), epoch: try reader.readInt64(),
                    journalSequence: try reader.readInt64(), durableSequence: try reader.readInt64(),
                    lastSnapshotSequence: try reader.readInt64()))
        }
        try reader.expectEnd()
        return views
    }
}
