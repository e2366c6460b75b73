import Actors
import Cluster
import NIOCore
import Trading
import Transport

/// The admin API of a cluster node in active/standby mode. Admin requests are forwarded to the active node
/// like every exchange request, so this runs there: members come from the membership table, the shards
/// and markets from the exchange; a drain of another node is sent to it over the transport.
struct NodeAdministration: ExchangeAdministration {
    let exchange: Exchange
    let role: ActiveRole
    let membership: MembershipRunner
    let peers: PeerClients

    func clusterStatus() async throws -> Actors.ClusterView {
        let local = try await exchange.clusterStatus()
        let total = local.symbolShards + local.accountShards
        let view = membership.view
        let serving = await exchange.isReady()
        var members: [Actors.ClusterMember] = []
        for member in view.members where member.status != .dead {
            let isActive = member.nodeID == role.nodeID && role.role == .active
            let status =
                isActive ? (serving ? "serving" : "starting") : member.status == .leaving ? "draining" : "standby"
            members.append(
                Actors.ClusterMember(
                    id: member.nodeID, apiAddress: member.apiAddress, status: status, shards: isActive ? total : 0))
        }
        return Actors.ClusterView(
            nodeID: role.nodeID, ringVersion: UInt64(max(0, view.version)), members: members,
            symbolShards: local.symbolShards, accountShards: local.accountShards)
    }

    /// The exchange's shards, with owners named by node id (leases are taken by `<node id>#<incarnation>`).
    func shards() async throws -> [ShardView] {
        try await exchange.shards().map { shard in
            var shard = shard
            shard.owner = ActiveRole.nodeID(ofOwner: shard.owner)
            return shard
        }
    }

    func drain(node: String) async throws {
        if node == role.nodeID { return try await role.drain() }
        try await Self.drain(peer: node, membership: membership, peers: peers)
    }

    /// Tells another node to drain itself, over the transport; returns once it has.
    static func drain(peer node: String, membership: MembershipRunner, peers: PeerClients) async throws {
        guard let member = membership.view.member(node), member.status != .dead,
            let client = peers.client(for: member.peerAddress)
        else { throw BourseError(.notFound, "unknown node \(node)") }
        let reply: PeerReply
        do {
            reply = try await client.sendCounted(
                PeerMessage(kind: PeerKind.drain, payload: ByteBuffer()), deadline: .now + .seconds(60))
        } catch {
            throw BourseError(.unavailable, "node \(node) did not answer: \(error)")
        }
        guard !reply.isError, reply.kind == PeerKind.drained else {
            throw BourseError(.unavailable, "node \(node) could not drain")
        }
    }

    /// A move of a known shard to a live node is refused with 409 (an unknown shard or node is 404).
    func moveShard(_ shard: String, to node: String) async throws {
        try Self.checkMove(shard, to: node, exchange: exchange, membership: membership)
        throw BourseError(
            .conflict,
            "in active/standby mode every shard lives on the active node; drain it to move them all to a standby")
    }

    /// A move names a known shard (else 404) and a member that is not dead (else 404).
    static func checkMove(
        _ shard: String, to node: String, exchange: Exchange, membership: MembershipRunner
    ) throws(BourseError) {
        guard exchange.isKnownShard(shard) else { throw BourseError(.notFound, "unknown shard \(shard)") }
        guard let member = membership.view.member(node), member.status != .dead else {
            throw BourseError(.notFound, "unknown node \(node)")
        }
    }

    func addMarket(_ spec: MarketSpec) async throws -> MarketInfo { try await exchange.addMarket(spec) }

    func setHalted(symbol: String, halted: Bool) async throws {
        try await exchange.setHalted(symbol: symbol, halted: halted)
    }

    func verify() async -> InvariantReport { await exchange.verify() }
}
