import Logging
import Storage
import Trading

/// The admin operations of one node. A single node is the whole cluster: it owns every shard, so there
/// is nowhere to drain to or move a shard to (the cluster issue extends these to many nodes).
extension Exchange: ExchangeAdministration {
    /// The membership version of a node alone: its one membership.
    static let singleNodeRingVersion: UInt64 = 1

    public func clusterStatus() async throws -> ClusterView {
        let symbolShards = symbolDirectory.specs.count
        let member = ClusterMember(
            id: configuration.nodeID, apiAddress: configuration.apiAddress,
            status: await isReady() ? "serving" : "starting", shards: symbolShards + accounts.shardCount)
        return ClusterView(
            nodeID: configuration.nodeID, ringVersion: Exchange.singleNodeRingVersion, members: [member],
            symbolShards: symbolShards, accountShards: accounts.shardCount)
    }

    /// Symbols first (in market order), then account shards; owner and epoch as the store's leases say.
    public func shards() async throws -> [ShardView] {
        var leases: [String: ShardLease] = [:]
        for lease in try await store.leases() { leases[lease.shard] = lease }
        var progress: [ShardProgress] = []
        for spec in symbolDirectory.specs {
            guard let actor = symbolDirectory.actor(spec.symbol) else { continue }
            progress.append(await actor.progress)
        }
        for shard in accounts.all { progress.append(await shard.progress) }
        return progress.map { shard in
            let lease = leases[shard.shard]
            return ShardView(
                shard: shard.shard, owner: lease?.owner ?? configuration.nodeID, epoch: lease?.epoch ?? shard.epoch,
                journalSequence: shard.journalSequence, durableSequence: shard.durableSequence,
                lastSnapshotSequence: shard.lastSnapshotSequence)
        }
    }

    /// The shards this exchange serves, as their actors see them, owned by this node: its part of the shards
    /// view across nodes routing by shard (the others' actors of those shards are idle and stale).
    public func servedShardViews() async -> [ShardView] {
        var progress: [ShardProgress] = []
        for spec in symbolDirectory.specs where serves(ShardKey.symbol(spec.symbol)) {
            guard let actor = symbolDirectory.actor(spec.symbol) else { continue }
            progress.append(await actor.progress)
        }
        for shard in accounts.served { progress.append(await shard.progress) }
        return progress.map {
            ShardView(
                shard: $0.shard, owner: configuration.nodeID, epoch: $0.epoch, journalSequence: $0.journalSequence,
                durableSequence: $0.durableSequence, lastSnapshotSequence: $0.lastSnapshotSequence)
        }
    }

    public func drain(node: String) async throws {
        guard node == configuration.nodeID else { throw BourseError(.notFound, "unknown node \(node)") }
        throw BourseError(.conflict, "cannot drain the only node")
    }

    public func moveShard(_ shard: String, to node: String) async throws {
        guard isKnownShard(shard) else { throw BourseError(.notFound, "unknown shard \(shard)") }
        guard node == configuration.nodeID else { throw BourseError(.notFound, "unknown node \(node)") }
        throw BourseError(.conflict, "shard \(shard) is already on \(node), the only node")
    }

    /// Stores the market (`MarketCatalog`), teaches every account shard its spec, takes its shard's lease,
    /// then makes it visible: it trades as soon as this returns.
    public func addMarket(_ spec: MarketSpec) async throws -> MarketInfo {
        guard await isReady() else { throw BourseError(.unavailable, "not ready: shards are recovering") }
        guard symbolDirectory.claim(spec.symbol) else {
            throw BourseError(.conflict, "market \(spec.symbol) already exists")
        }
        let actor: SymbolActor
        do {
            try await MarketCatalog.save(spec, to: store)
            if servesPart {
                // Routing by shard: the market is known here and served where the assignment places its shard
                // (the caller adds it there); that node's ownership runner takes it like any other.
                for shard in accounts.all { await shard.addMarket(spec) }
                actor = makeSymbolActor(spec)
            } else {
                actor = try await openMarket(spec)
            }
        } catch {
            symbolDirectory.release(spec.symbol)
            throw error
        }
        symbolDirectory.register(spec, actor: actor)
        logger.info("market added", metadata: ["symbol": "\(spec.symbol)", "node": "\(configuration.nodeID)"])
        return MarketInfo(spec: spec, halted: await actor.isHalted)
    }

    /// The markets added at run time join the configured ones (a configured market of the same symbol wins):
    /// at start, before any shard recovers, and, routing by shard, when the assignment names a market added on
    /// another node since.
    public func loadAddedMarkets() async throws {
        for spec in try await MarketCatalog.load(from: store) {
            if let configured = symbolDirectory.specs.first(where: { $0.symbol == spec.symbol }) {
                if configured != spec {
                    logger.warning(
                        "an added market differs from the configured one; the configuration wins",
                        metadata: ["symbol": "\(spec.symbol)"])
                }
                continue
            }
            guard symbolDirectory.actor(spec.symbol) == nil else { continue }
            for shard in accounts.all { await shard.addMarket(spec) }
            symbolDirectory.register(spec, actor: makeSymbolActor(spec))
            logger.info("added market loaded", metadata: ["symbol": "\(spec.symbol)"])
        }
    }

    /// A new market's actor, recovered (its journal is empty unless an earlier add stopped half-way).
    private func openMarket(_ spec: MarketSpec) async throws -> SymbolActor {
        for shard in accounts.all { await shard.addMarket(spec) }
        let actor = makeSymbolActor(spec)
        let shard = ShardKey.symbol(spec.symbol)
        await actor.setEpoch(try await takeLeases([shard], waitingUntil: .now)[shard] ?? 0)
        await actor.setSnapshotEvery(configuration.snapshotEvery)
        try await actor.recover()
        return actor
    }

    /// `symbol/<known market>` or `accounts/NNNN` of this node's account shards.
    public func isKnownShard(_ shard: String) -> Bool {
        if let symbol = ShardKey.symbol(of: shard) { return symbolDirectory.actor(symbol) != nil }
        guard let index = ShardKey.accountIndex(of: shard) else { return false }
        return index < accounts.shardCount
    }
}
