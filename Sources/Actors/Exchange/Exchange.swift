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
    let accounts: AccountDirectory
    let symbolDirectory: SymbolDirectory
    /// Where the account shards' read-model rows go (`nil`: no read models).
    let projections: ProjectionWriter?
    private let ready = ReadyFlag()

    /// Every market's actor by symbol (configured markets and those added since).
    var symbols: [String: SymbolActor] { symbolDirectory.actors }

    /// Builds the actors; call `start()` to take the shards' leases and recover them.
    ///
    /// - Parameter projections: where the account shards send their read-model rows once durable (run it
    ///   before `start()`, stop it after the exchange); `nil` keeps no read models.
    public init(
        configuration: Configuration, store: any JournalStore, projections: ProjectionWriter? = nil, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = Exchange.wallClockMillis
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.clock = clock
        self.projections = projections
        let specs = Dictionary(configuration.markets.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        let feed = self.feed
        let shards = (0..<configuration.accountShards).map {
            AccountShardActor(
                index: $0, markets: specs, store: store, epoch: 0, feed: feed, projections: projections, logger: logger)
        }
        let accounts = AccountDirectory(shards: shards)
        self.accounts = accounts
        // Duplicates are dropped by the directory (the first spec of a symbol wins, as in `specs`).
        let configured = configuration.markets.map { spec in
            (
                spec: spec,
                actor: SymbolActor(
                    spec: spec, store: store, epoch: 0, accounts: accounts, feed: feed, logger: logger,
                    protectionBps: configuration.protectionBps)
            )
        }
        symbolDirectory = SymbolDirectory(configured)
    }

    /// A symbol actor for a market of this node (not yet registered or recovered).
    func makeSymbolActor(_ spec: MarketSpec) -> SymbolActor {
        SymbolActor(
            spec: spec, store: store, epoch: 0, accounts: accounts, feed: feed, logger: logger,
            protectionBps: configuration.protectionBps)
    }

    /// Takes every shard's lease, replays accounts then symbols (whose events are redelivered), and
    /// rejects orders that were reserved but never reached their book. Then the node is ready.
    public func start() async throws {
        try await loadAddedMarkets()
        let now = clock()
        let ttl = Exchange.leaseTTLMillis
        for shard in accounts.all {
            let lease = try await store.acquireLease(
                shard: ShardKey.account(index: shard.index), owner: configuration.nodeID, ttlMillis: ttl,
                nowMillis: now)
            await shard.setEpoch(lease.epoch)
            await shard.setSnapshotEvery(configuration.snapshotEvery)
        }
        for symbol in symbols.values {
            let lease = try await store.acquireLease(
                shard: ShardKey.symbol(symbol.symbol), owner: configuration.nodeID, ttlMillis: ttl, nowMillis: now)
            await symbol.setEpoch(lease.epoch)
            await symbol.setSnapshotEvery(configuration.snapshotEvery)
        }
        for shard in accounts.all { try await shard.recover() }
        for symbol in symbols.values { try await symbol.recover() }
        for shard in accounts.all { await shard.abandonUnacknowledged(nowMillis: clock()) }
        ready.set()
        logger.info(
            "exchange ready",
            metadata: [
                "node": "\(configuration.nodeID)", "markets": "\(symbols.count)",
                "account_shards": "\(accounts.shardCount)",
            ])
    }

    public func isReady() async -> Bool { ready.isSet }

    /// A graceful stop, after the API has stopped taking requests: every shard's journal is made durable
    /// (settlements still journaling in the background included) and every shard that changed since its
    /// last snapshot writes one, so that the next start replays nothing.
    public func stop() async {
        guard ready.isSet else { return }
        await withTaskGroup(of: Void.self) { group in
            for symbol in symbols.values { group.addTask { await symbol.checkpoint() } }
            for shard in accounts.all { group.addTask { await shard.checkpoint() } }
        }
        logger.info("exchange stopped: journals durable, shards snapshotted")
    }

    func symbolActor(_ symbol: String) throws(BourseError) -> SymbolActor {
        guard let actor = symbolDirectory.actor(symbol) else {
            throw BourseError(.notFound, "unknown symbol \(symbol)")
        }
        return actor
    }

    /// Single node: a lease is ours until released.
    static let leaseTTLMillis: Int64 = 10 * 365 * 86_400_000

    /// Milliseconds since 1970 from the system clock.
    public static let wallClockMillis: @Sendable () -> Int64 = {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// A one-way flag readable from any thread.
final class ReadyFlag: Sendable {
    private let value = Synchronization.Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
