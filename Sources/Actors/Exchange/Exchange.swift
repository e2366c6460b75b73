import Logging
import Storage
import Synchronization
import Trading

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The exchange on one node: a `SymbolActor` per market and an `AccountShardActor` per account shard,
/// wired by the place-order flow of design.md (reserve in the account → sequence, journal and match
/// in the symbol → settle every fill on both sides).
public final class Exchange: ExchangeService {
    public struct Configuration: Sendable {
        public var markets: [MarketSpec]
        public var accountShards: Int
        public var nodeID: String
        /// Market-order protection, basis points through the best opposite price.
        public var protectionBps: Int64
        /// Records per shard between two snapshots.
        public var snapshotEvery: Int64
        /// This node's client API address (`host:port`), as the admin API shows it.
        public var apiAddress = ""
        /// How long a shard lease lasts unless renewed. A node alone holds its leases for good; in a cluster
        /// they are short and someone (the node's active role) calls `renewLeases` well within this.
        public var leaseTTLMillis: Int64 = Exchange.singleNodeLeaseTTLMillis
        /// How long `start()` waits for a lease another node still holds (a cluster's previous owner whose
        /// lease has not lapsed yet); zero fails at once, as a node alone should.
        public var leaseWait: Duration = .zero
        /// Who the leases are taken by (default: the node id). A cluster node adds its incarnation, so that a
        /// restarted node takes its shards at a new epoch, fencing its previous life.
        public var leaseOwner: String?
        /// How often idle users are passivated (a user unused for one to two intervals is); `nil` never.
        public var passivationInterval: Duration? = .seconds(300)
        /// The shards this exchange serves (`ShardKey` names); `nil`, every shard. The others are reached
        /// through the exchange's `ShardPeers`: an order of an account shard served here goes to its book
        /// wherever that is served, and a book's events go to the account shards of their orders.
        public var servedShards: Set<String>?
        /// With `servedShards`: how old a place no book has answered must be before it is sent again (longer than
        /// a shard call's transport deadline; see `Exchange+Resubmission`).
        public var resubmitAfter: Duration = .seconds(10)
        public init(
            markets: [MarketSpec], accountShards: Int = ShardKey.defaultAccountShards, nodeID: String = "local",
            protectionBps: Int64 = 500, snapshotEvery: Int64 = 1_000
        ) {
            self.snapshotEvery = snapshotEvery
            self.markets = markets
            self.accountShards = accountShards
            self.nodeID = nodeID
            self.protectionBps = protectionBps
        }
    }

    public let configuration: Configuration
    let store: any JournalStore
    let logger: Logger
    let clock: @Sendable () -> Int64
    let feed = MarketFeed()
    /// Strategy signals on their way from the markets to the order flow (`Exchange+Strategies.swift`).
    let strategyRuntime = StrategyRuntime()
    let accounts: AccountDirectory
    let symbolDirectory: SymbolDirectory
    /// Where the account shards' read-model rows go (`nil`: no read models).
    let projections: ProjectionWriter?
    let ready = ReadyFlag()
    /// The leases this node holds: epoch by shard.
    let held = Mutex<[String: Int64]>([:])
    /// Shard loads under way (`takeShard`), the latest by shard: only that one is installed when it finishes; and
    /// the newest epoch a take was asked for, by shard (kept: a lease's epoch never goes back).
    let takes = Mutex<(next: UInt64, current: [String: UInt64], newestEpoch: [String: Int64])>((0, [:], [:]))
    /// The periodic sweep that passivates idle users (`Exchange+Passivation.swift`).
    let passivation = Mutex<Task<Void, Never>?>(nil)
    /// The rounds that send unanswered places again (`Exchange+Resubmission.swift`; part of the shards only).
    let resubmission = Mutex<Task<Void, Never>?>(nil)
    /// Shards whose journal failed, reported by their actors, to be reloaded (`Exchange+Repair.swift`).
    public let journalFailures = JournalFailures()
    /// The loop that reloads them on a node that holds its leases itself.
    let repairs = Mutex<Task<Void, Never>?>(nil)

    /// Where the shards served by other nodes are reached (`nil`: this exchange serves every shard).
    let peers: (any ShardPeers)?
    /// The shards served here now (`Configuration.servedShards`, then as shards are taken and handed off).
    let served: ServedShards

    /// Every market's actor by symbol (configured markets and those added since), served here or not.
    var symbols: [String: SymbolActor] { symbolDirectory.actors }
    /// The markets whose books this exchange serves.
    var servedSymbols: [SymbolActor] { symbols.values.filter { serves(ShardKey.symbol($0.symbol)) } }

    /// Whether this exchange serves `shard`.
    public func serves(_ shard: String) -> Bool { served.contains(shard) }

    /// How many shards this exchange serves (every market and account shard when it serves them all).
    public var servedShardCount: Int { served.count ?? (symbolDirectory.specs.count + accounts.shardCount) }

    /// Whether other nodes serve some shards (`Configuration.servedShards`, or a cluster routing by shard).
    var servesPart: Bool { !served.isAll }

    /// Builds the actors; call `start()` to take the shards' leases and recover them.
    ///
    /// - Parameter projections: where the account shards send their read-model rows once durable (run it
    ///   before `start()`, stop it after the exchange); `nil` keeps no read models.
    public init(
        configuration: Configuration, store: any JournalStore, projections: ProjectionWriter? = nil, logger: Logger,
        peers: (any ShardPeers)? = nil, clock: @escaping @Sendable () -> Int64 = Exchange.wallClockMillis
    ) {
        self.configuration = configuration
        self.peers = peers
        self.store = store
        self.logger = logger
        self.clock = clock
        self.projections = projections
        let specs = Dictionary(configuration.markets.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        let feed = self.feed
        let signals = strategyRuntime
        let failures = journalFailures
        let shards = (0..<configuration.accountShards).map {
            AccountShardActor(
                index: $0, markets: specs, store: store, epoch: 0, feed: feed, projections: projections,
                failures: failures, logger: logger)
        }
        let served = ServedShards(configuration.servedShards)
        self.served = served
        let accounts = AccountDirectory(shards: shards, served: served, peers: peers)
        self.accounts = accounts
        // Duplicates are dropped by the directory (the first spec of a symbol wins, as in `specs`).
        let configured = configuration.markets.map { spec in
            (
                spec: spec,
                actor: SymbolActor(
                    spec: spec, store: store, epoch: 0, accounts: accounts, feed: feed, signals: signals,
                    failures: failures, logger: logger, protectionBps: configuration.protectionBps)
            )
        }
        symbolDirectory = SymbolDirectory(configured)
    }

    /// A symbol actor for a market of this node (not yet registered or recovered).
    func makeSymbolActor(_ spec: MarketSpec) -> SymbolActor {
        SymbolActor(
            spec: spec, store: store, epoch: 0, accounts: accounts, feed: feed, signals: strategyRuntime,
            failures: journalFailures, logger: logger, protectionBps: configuration.protectionBps)
    }

    /// Takes every shard's lease, replays accounts then symbols (whose events are redelivered), and
    /// rejects orders that were reserved but never reached their book. Then the node is ready, and places
    /// the orders of strategy signals (those still pending after the replay first).
    public func start() async throws {
        let signals = strategyRuntime.open()
        try await loadAddedMarkets()
        let servedAccounts = accounts.served
        let servedSymbols = self.servedSymbols
        let epochs = try await takeLeases(
            servedAccounts.map { ShardKey.account(index: $0.index) } + servedSymbols.map { ShardKey.symbol($0.symbol) },
            waitingUntil: ContinuousClock.now + configuration.leaseWait)
        for shard in servedAccounts {
            await shard.setEpoch(epochs[ShardKey.account(index: shard.index)] ?? 0)
            await shard.setSnapshotEvery(configuration.snapshotEvery)
        }
        for symbol in servedSymbols {
            await symbol.setEpoch(epochs[ShardKey.symbol(symbol.symbol)] ?? 0)
            await symbol.setSnapshotEvery(configuration.snapshotEvery)
        }
        // Shards recover side by side (each is its own actor; the store's pool runs the reads in parallel):
        // a node taking over a cluster's shards is unavailable until the last one has.
        // Snapshots and journal heads are read for many shards per statement (most account shards of a
        // cluster are small or empty); each shard reads the rest of a long journal itself.
        let groups = stride(from: 0, to: servedAccounts.count, by: Self.recoveryBatch).map {
            Array(servedAccounts[$0..<min($0 + Self.recoveryBatch, servedAccounts.count)])
        }
        let store = self.store
        try await Self.concurrently(groups, width: 2) { group in
            let starts = try await store.recoveryStarts(
                shards: group.map { ShardKey.account(index: $0.index) }, limit: Self.recoveryHead)
            try await Self.concurrently(group, width: Self.recoveryWidth) { shard in
                try await shard.recover(from: starts[ShardKey.account(index: shard.index)])
            }
        }
        try await Self.concurrently(servedSymbols, width: Self.recoveryWidth) { try await $0.recover() }
        // A node alone: its books have recovered, so a place none of them answered never reached it. Part of the
        // shards: the book may be elsewhere and have placed it; sent again once serving (`startResubmission`).
        if !servesPart {
            for shard in servedAccounts { await shard.abandonUnacknowledged(nowMillis: clock()) }
        }
        ready.set()
        startSignalConsumer(signals)
        startPassivation()
        startResubmission()
        startRepairs()
        logger.info(
            "exchange ready",
            metadata: [
                "node": "\(configuration.nodeID)", "markets": "\(servedSymbols.count)",
                "account_shards": "\(servedAccounts.count)",
            ])
    }

    public func isReady() async -> Bool { ready.isSet }

    /// A graceful stop, after the API has stopped taking requests: every shard's journal is made durable
    /// (settlements still journaling in the background included) and every shard that changed since its
    /// last snapshot writes one, so that the next start replays nothing.
    ///
    /// - Parameter releasingLeases: then gives every lease up, so that the next owner takes the shards at
    ///   once instead of waiting for them to lapse (a cluster node handing off). A handoff saves only the
    ///   shards `recoveryHead` or more records past their last snapshot: the next owner reads that many records
    ///   with each snapshot and replays them, which is quicker than saving the whole state of every shard
    ///   that changed while the requests wait. Requests still arriving
    ///   answer 503 from here on; one that was already inside is durable before its shard's snapshot, or
    ///   refused by the store once the next owner holds the shard.
    public func stop(releasingLeases: Bool = false) async {
        guard ready.clear() else { return }
        let started = ContinuousClock.now
        stopPassivation()
        stopResubmission()
        stopRepairs()
        await stopSignalConsumer()
        // A few shards at a time: a thousand snapshot writes at once would queue every other statement of the
        // store's pool (journal batches, read models) behind them.
        let books = servedSymbols
        let shards: [any SnapshottingActor] = books + accounts.served
        let written = SnapshotTally()
        // A handoff leaves short tails to the next owner, who reads them with the snapshots anyway.
        let tailLimit = releasingLeases ? Int64(Self.recoveryHead) : 1
        try? await Self.concurrently(shards, width: Self.checkpointWidth) {
            written.add(await $0.checkpoint(savingTailsFrom: tailLimit))
        }
        for book in books { await book.retire() }
        let (snapshotted, bytes) = written.total
        let elapsed = (ContinuousClock.now - started).components
        logger.info(
            "exchange stopped: journals durable, shards snapshotted",
            metadata: [
                "shards_snapshotted": "\(snapshotted)", "snapshot_bytes": "\(bytes)",
                "stop_ms": "\(elapsed.seconds * 1_000 + elapsed.attoseconds / 1_000_000_000_000_000)",
            ])
        guard releasingLeases else { return }
        let leases = heldLeases
        do {
            try await store.releaseLeases(owner: leaseOwner, leases)
            held.withLock { $0.removeAll() }
            logger.info("leases released", metadata: ["shards": "\(leases.count)"])
        } catch {
            logger.warning("releasing the leases failed; they lapse by themselves", metadata: ["error": "\(error)"])
        }
    }

    var leaseOwner: String { configuration.leaseOwner ?? configuration.nodeID }

    /// Every lease this node holds, with its epoch.
    public var heldLeases: [(shard: String, epoch: Int64)] {
        held.withLock { held in held.map { (shard: $0.key, epoch: $0.value) } }
    }

    /// Takes the shards' leases for this node, many per round trip (waiting, until `deadline`, for another
    /// node's leases to lapse), and remembers them for `heldLeases`. Returns the epoch of each.
    /// - Throws: `StorageError.leaseHeld` when some lease is still another node's at `deadline`.
    func takeLeases(_ shards: [String], waitingUntil deadline: ContinuousClock.Instant) async throws
        -> [String: Int64]
    {
        var epochs: [String: Int64] = [:]
        var missing = shards
        while true {
            let taken = try await store.acquireLeases(
                shards: missing, owner: leaseOwner, ttlMillis: configuration.leaseTTLMillis, nowMillis: clock())
            held.withLock { held in for lease in taken { held[lease.shard] = lease.epoch } }
            for lease in taken { epochs[lease.shard] = lease.epoch }
            missing.removeAll { epochs[$0] != nil }
            guard let first = missing.first else { return epochs }
            guard ContinuousClock.now < deadline else {
                throw StorageError(.leaseHeld, "\(first) and \(missing.count - 1) more are held by another node")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The account shard of a user's request: served here, or `unavailable` (the request goes to the shard's
    /// owner; an actor left behind by a handoff holds the state it had then).
    func accountShard(ofUser user: UserID) throws(BourseError) -> AccountShardActor {
        let index = ShardKey.accountShardIndex(user, shards: accounts.shardCount)
        guard accounts.serves(index) else { throw notServed(index) }
        return accounts.shard(index: index)
    }

    /// The account shard that placed an order, when served here (`unavailable` when not); nil for an id no
    /// shard could have made.
    func accountShard(ofOrder id: OrderID) throws(BourseError) -> AccountShardActor? {
        let index = OrderIDs.shard(of: id)
        guard index < accounts.shardCount else { return nil }
        guard accounts.serves(index) else { throw notServed(index) }
        return accounts.shard(index: index)
    }

    private func notServed(_ index: Int) -> BourseError {
        BourseError(.unavailable, "\(ShardKey.account(index: index)) is not served by \(configuration.nodeID)")
    }

    func symbolActor(_ symbol: String) throws(BourseError) -> SymbolActor {
        guard let actor = symbolDirectory.actor(symbol) else {
            throw BourseError(.notFound, "unknown symbol \(symbol)")
        }
        return actor
    }

    /// The book of `symbol` for the order flow: its actor when served here, else its owner through `peers`.
    func symbolRoute(_ symbol: String) throws(BourseError) -> SymbolRoute {
        let actor = try symbolActor(symbol)
        if serves(ShardKey.symbol(symbol)) { return .local(actor) }
        guard let peers else { throw BourseError(.unavailable, "market \(symbol) is served by another node") }
        return .remote(symbol: symbol, peers: peers)
    }

    /// Shards recovering at the same time.
    static let recoveryWidth = 16
    /// Shards writing their stop snapshot at the same time.
    static let checkpointWidth = 8
    /// Account shards whose snapshots and journal heads are read in one statement.
    static let recoveryBatch = 256
    /// Journal records per shard read with its snapshot (and so the longest tail a handoff leaves unsaved).
    public static let recoveryHead = 200

    /// Runs `body` on every item, at most `width` at a time; the first error cancels the rest and is thrown.
    public static func concurrently<Item: Sendable>(
        _ items: [Item], width: Int, _ body: @escaping @Sendable (Item) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = items.makeIterator()
            for _ in 0..<max(1, width) {
                guard let item = pending.next() else { break }
                group.addTask { try await body(item) }
            }
            while try await group.next() != nil {
                if let item = pending.next() { group.addTask { try await body(item) } }
            }
        }
    }

    /// Single node: a lease is ours until released.
    public static let singleNodeLeaseTTLMillis: Int64 = 10 * 365 * 86_400_000

    /// Milliseconds since 1970 from the system clock.
    public static let wallClockMillis: @Sendable () -> Int64 = {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// Snapshots written by a graceful stop, counted from the shards' tasks.
final class SnapshotTally: Sendable {
    private let counts = Mutex((shards: 0, bytes: 0))
    func add(_ bytes: Int) {
        guard bytes > 0 else { return }
        counts.withLock { $0 = (shards: $0.shards + 1, bytes: $0.bytes + bytes) }
    }
    var total: (shards: Int, bytes: Int) { counts.withLock { $0 } }
}

/// A flag readable from any thread: set once recovered, cleared (once) when the exchange stops serving.
final class ReadyFlag: Sendable {
    private let value = Synchronization.Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    /// Clears the flag; true if it was set (the caller stops the exchange).
    func clear() -> Bool { value.exchange(false, ordering: .acquiringAndReleasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
