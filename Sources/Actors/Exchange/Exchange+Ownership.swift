import Storage
import Trading

/// Shards taken and given up one at a time, for a cluster that routes by shard: the node's ownership runner
/// holds the leases (`ShardOwnership` decides) and tells the exchange what to serve. Such an exchange starts
/// with `Configuration.servedShards` empty, so `start()` recovers nothing and the exchange is ready at once.
///
/// - `takeShard`: a fresh actor for the shard (a shard served here before kept the state it had when it left,
///   which the journal has moved on from), writing with the lease's epoch, recovered from the latest snapshot
///   and the journal after it; then the shard is served. A book recovered redelivers its events to the account
///   shards of their orders, and an account shard's places that no book answered are sent again by the
///   resubmission rounds.
/// - `handOffShard`: the shard stops being served (calls for it answer `unavailable` and are sent again
///   elsewhere), its journal is made durable and, when its tail is long, snapshotted (the next owner reads
///   `recoveryHead` records with the snapshot anyway), and its actor retired; then the caller releases the lease.
/// - `dropShard`: the lease is lost or may have lapsed: the shard stops being served at once, nothing is saved
///   (the store would refuse it).
extension Exchange {
    /// Loads the shard with the lease's `epoch` and serves it.
    /// - Throws: when the shard is unknown, or its snapshot or journal cannot be read (the caller gives the
    ///   lease up and tries again).
    public func takeShard(_ shard: String, epoch: Int64) async throws {
        guard ready.isSet else { throw BourseError(.unavailable, "the exchange is not running") }
        guard servesPart else { return }
        try await loadShard(shard, epoch: epoch)
        held.withLock { $0[shard] = epoch }
        served.insert(shard)
        logger.info("shard taken", metadata: ["shard": "\(shard)", "epoch": "\(epoch)"])
    }

    /// A fresh actor for the shard, writing with `epoch`, recovered from the latest snapshot and the journal
    /// after it, in place of the shard's actor (which the caller retires, if it is not done with).
    func loadShard(_ shard: String, epoch: Int64) async throws {
        if let index = ShardKey.accountIndex(of: shard), index < accounts.shardCount {
            let markets = Dictionary(
                symbolDirectory.specs.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
            let actor = AccountShardActor(
                index: index, markets: markets, store: store, epoch: epoch, feed: feed, projections: projections,
                failures: journalFailures, logger: logger)
            await actor.setSnapshotEvery(configuration.snapshotEvery)
            try await actor.recover()
            accounts.replace(actor)
            // A market added while it recovered.
            for spec in symbolDirectory.specs { await actor.addMarket(spec) }
        } else if let symbol = ShardKey.symbol(of: shard) {
            // A market added on another node since this one started.
            if symbolDirectory.actor(symbol) == nil { try await loadAddedMarkets() }
            guard let spec = symbolDirectory.specs.first(where: { $0.symbol == symbol }) else {
                throw BourseError(.notFound, "unknown market \(symbol)")
            }
            let actor = makeSymbolActor(spec)
            await actor.setEpoch(epoch)
            await actor.setSnapshotEvery(configuration.snapshotEvery)
            try await actor.recover()
            symbolDirectory.replace(actor)
        } else {
            throw BourseError(.notFound, "unknown shard \(shard)")
        }
    }

    /// Stops serving the shard and leaves it for its next owner: journal durable, a long tail snapshotted, the
    /// actor retired. The caller then releases the lease. Nothing happens for a shard not served here.
    public func handOffShard(_ shard: String) async {
        guard served.remove(shard), let actor = shardActor(shard) else { return }
        let bytes = await actor.checkpoint(savingTailsFrom: Int64(Self.recoveryHead))
        await retire(actor)
        held.withLock { $0[shard] = nil }
        logger.info("shard handed off", metadata: ["shard": "\(shard)", "snapshot_bytes": "\(bytes)"])
    }

    /// Stops serving the shard at once, saving nothing: its lease is lost or may have lapsed.
    public func dropShard(_ shard: String) async {
        guard served.remove(shard), let actor = shardActor(shard) else { return }
        await retire(actor)
        held.withLock { $0[shard] = nil }
        logger.warning("shard dropped: its lease is lost", metadata: ["shard": "\(shard)"])
    }

    func shardActor(_ shard: String) -> (any SnapshottingActor)? {
        if let index = ShardKey.accountIndex(of: shard), index < accounts.shardCount {
            return accounts.shard(index: index)
        }
        return ShardKey.symbol(of: shard).flatMap { symbolDirectory.actor($0) }
    }

    func retire(_ actor: any SnapshottingActor) async {
        if let book = actor as? SymbolActor { await book.retire() }
        if let shard = actor as? AccountShardActor { await shard.retire() }
    }
}
