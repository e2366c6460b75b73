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
    /// Loads the shard with the lease's `epoch` and serves it. Returns false when the load was superseded before
    /// it finished — the shard was dropped or handed off meanwhile, or taken again (a lease that lapsed while its
    /// load waited on the store is taken back, at the same epoch or a later one) — or when a take at a later epoch
    /// was asked for already: the loaded actor is retired and nothing changes. So the take of the newest epoch, and
    /// of those the latest, is the one served, whichever load finishes last and whichever call started first.
    /// - Throws: when the shard is unknown, or its snapshot or journal cannot be read (the caller gives the
    ///   lease up and tries again).
    @discardableResult
    public func takeShard(_ shard: String, epoch: Int64) async throws -> Bool {
        guard ready.isSet else { throw BourseError(.unavailable, "the exchange is not running") }
        guard servesPart else { return true }
        let take = takes.withLock { takes -> UInt64? in
            // A take at an epoch below one already asked for is stale from the start: the calls of two takes may
            // start in either order.
            if let newest = takes.newestEpoch[shard], epoch < newest { return nil }
            takes.newestEpoch[shard] = epoch
            takes.next += 1
            takes.current[shard] = takes.next
            return takes.next
        }
        guard let take else {
            logger.info(
                "shard load superseded: the shard was taken at a later epoch",
                metadata: ["shard": "\(shard)", "epoch": "\(epoch)"])
            return false
        }
        let actor: any SnapshottingActor
        do {
            actor = try await loadShard(shard, epoch: epoch)
        } catch {
            takes.withLock { takes in if takes.current[shard] == take { takes.current[shard] = nil } }
            throw error
        }
        // Installed and served in one step with the check, so that a drop or handoff either comes before (and
        // this load is discarded) or after (and finds the shard served).
        let installed = takes.withLock { takes -> Bool in
            guard takes.current[shard] == take else { return false }
            takes.current[shard] = nil
            install(actor)
            held.withLock { $0[shard] = epoch }
            served.insert(shard)
            return true
        }
        guard installed else {
            await retire(actor)
            logger.info(
                "shard load superseded: the shard was dropped or taken again while it loaded",
                metadata: ["shard": "\(shard)", "epoch": "\(epoch)"])
            return false
        }
        await addMarkets(to: actor)
        logger.info("shard taken", metadata: ["shard": "\(shard)", "epoch": "\(epoch)"])
        return true
    }

    /// A fresh actor for the shard, writing with `epoch`, recovered from the latest snapshot and the journal
    /// after it; not yet in place of the shard's actor (`install`).
    func loadShard(_ shard: String, epoch: Int64) async throws -> any SnapshottingActor {
        if let index = ShardKey.accountIndex(of: shard), index < accounts.shardCount {
            let markets = Dictionary(
                symbolDirectory.specs.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
            let actor = AccountShardActor(
                index: index, markets: markets, store: store, epoch: epoch, feed: feed, projections: projections,
                failures: journalFailures, logger: logger)
            await actor.setSnapshotEvery(configuration.snapshotEvery)
            try await actor.recover()
            return actor
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
            return actor
        } else {
            throw BourseError(.notFound, "unknown shard \(shard)")
        }
    }

    /// Tells an account shard installed after it loaded of the markets added while it loaded.
    func addMarkets(to actor: any SnapshottingActor) async {
        guard let account = actor as? AccountShardActor else { return }
        for spec in symbolDirectory.specs { await account.addMarket(spec) }
    }

    /// Puts a loaded actor in place of its shard's (the caller retires the one it replaces, if not done with it).
    func install(_ actor: any SnapshottingActor) {
        if let account = actor as? AccountShardActor { accounts.replace(account) }
        if let book = actor as? SymbolActor { symbolDirectory.replace(book) }
    }

    /// Stops serving the shard and leaves it for its next owner: journal durable, a long tail snapshotted, the
    /// actor retired. The caller then releases the lease. Nothing happens for a shard not served here.
    public func handOffShard(_ shard: String) async {
        abandonLoad(of: shard)
        guard served.remove(shard), let actor = shardActor(shard) else { return }
        let bytes = await actor.checkpoint(savingTailsFrom: Int64(Self.recoveryHead))
        await retire(actor)
        held.withLock { $0[shard] = nil }
        logger.info("shard handed off", metadata: ["shard": "\(shard)", "snapshot_bytes": "\(bytes)"])
    }

    /// Stops serving the shard at once, saving nothing: its lease is lost or may have lapsed.
    public func dropShard(_ shard: String) async {
        abandonLoad(of: shard)
        guard served.remove(shard), let actor = shardActor(shard) else { return }
        await retire(actor)
        held.withLock { $0[shard] = nil }
        logger.warning("shard dropped: its lease is lost", metadata: ["shard": "\(shard)"])
    }

    /// A load of the shard under way is not installed when it finishes (`takeShard` returns false).
    private func abandonLoad(of shard: String) {
        takes.withLock { _ = $0.current.removeValue(forKey: shard) }
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
