import Logging
import Storage
import Trading

/// The owner of one market: its order book and market data, journaled command by command.
///
/// A command is applied to the state first (so commands are sequenced in the order the actor runs
/// them), then journaled; callers are answered after their record is durable **and** its book events
/// have been delivered, in book order, to the account shards of the orders concerned.
public actor SymbolActor: JournalingActor {
    public let symbol: String
    public let spec: MarketSpec
    public var journal: JournalPipeline
    public let store: any JournalStore
    private(set) var state: SymbolState
    private let accounts: AccountDirectory
    private let logger: Logger
    /// A snapshot is written once this many records have been journaled since the last one.
    var snapshotEvery: Int64 = 1_000
    private var lastSnapshot: Int64 = 0
    /// Events applied but not yet delivered, in book order, with the journal sequence of their record:
    /// only events of durable records are delivered.
    private var outbox: [(sequence: Int64, events: [BookEvent])] = []
    /// Stream subscribers (shared by every actor of the node).
    let feed: MarketFeed

    init(
        spec: MarketSpec, store: any JournalStore, epoch: Int64, accounts: AccountDirectory, feed: MarketFeed,
        logger: Logger, protectionBps: Int64 = 500
    ) {
        self.feed = feed
        symbol = spec.symbol
        self.spec = spec
        self.store = store
        self.accounts = accounts
        self.logger = logger
        state = SymbolState(spec: spec, protectionBps: protectionBps)
        journal = JournalPipeline(shard: ShardKey.symbol(spec.symbol), epoch: epoch, lastSequence: 0)
    }

    /// Replays the journal; the events of the replay are queued for redelivery (accounts skip what they
    /// have already applied).
    func recover() async throws {
        var after: Int64 = 0
        if let snapshot = try await store.latestSnapshot(shard: journal.shard) {
            state = try SymbolState(spec: spec, snapshot: snapshot.payload)
            after = snapshot.sequence
            lastSnapshot = after
        }
        while true {
            let records = try await store.records(shard: journal.shard, after: after, limit: 5_000)
            if records.isEmpty { break }
            for record in records {
                let decoded = try SymbolState.Record(decoding: record.payload)
                outbox.append((record.sequence, state.apply(decoded)))
                after = record.sequence
            }
        }
        journal = JournalPipeline(shard: journal.shard, epoch: journal.epoch, lastSequence: after)
        await deliverOutbox(through: after)
        logger.info("symbol recovered", metadata: ["shard": "\(journal.shard)", "sequence": "\(after)"])
    }

    /// Applies a book command and returns its events once they are durable and delivered.
    public func submit(_ command: BookCommand, nowMillis: Int64) async throws -> [BookEvent] {
        if state.halted, case .place = command {
            throw BourseError(.orderRejected, "market \(symbol) is halted")
        }
        let record = SymbolState.Record(timestampMillis: nowMillis, command: .book(command))
        let events = state.apply(record)
        // No suspension between here and the enqueue in `commit`: the next sequence is this record's.
        outbox.append((journal.lastSequence + 1, events))
        publish(events, nowMillis: nowMillis)
        try await commit(record.encoded())
        return events
    }

    public func setHalted(_ halted: Bool, nowMillis: Int64) async throws {
        let record = SymbolState.Record(timestampMillis: nowMillis, command: halted ? .halt : .resume)
        outbox.append((journal.lastSequence + 1, state.apply(record)))
        try await commit(record.encoded())
    }

    /// Adopts the epoch of the lease just taken; later records carry it.
    func setEpoch(_ epoch: Int64) {
        journal = JournalPipeline(shard: journal.shard, epoch: epoch, lastSequence: journal.lastSequence)
    }

    public func didCommit(through sequence: Int64) async {
        await deliverOutbox(through: sequence)
        // Snapshot only a state that is entirely durable and delivered.
        if sequence - lastSnapshot >= snapshotEvery, journal.lastSequence == sequence, outbox.isEmpty {
            lastSnapshot = sequence
            let snapshot = ShardSnapshot(
                shard: journal.shard, epoch: journal.epoch, sequence: sequence, payload: state.snapshot())
            do {
                try await store.saveSnapshot(snapshot)
            } catch {
                logger.warning("snapshot not saved", metadata: ["shard": "\(journal.shard)", "error": "\(error)"])
            }
        }
    }

    /// Delivers the events of durable records to the account shards concerned, each shard its events
    /// in book order.
    private func deliverOutbox(through sequence: Int64) async {
        let count = outbox.prefix { $0.sequence <= sequence }.count
        guard count > 0 else { return }
        let events = outbox[..<count].flatMap(\.events)
        outbox.removeFirst(count)
        var byShard: [Int: [BookEvent]] = [:]
        for event in events {
            for shard in AccountDirectory.shards(of: event) { byShard[shard, default: []].append(event) }
        }
        let symbol = self.symbol
        let accounts = self.accounts
        await withTaskGroup(of: Void.self) { group in
            for (shard, events) in byShard {
                group.addTask { await accounts.deliver(symbol: symbol, events: events, toShard: shard) }
            }
        }
    }

    func setSnapshotEvery(_ records: Int64) { snapshotEvery = records }

    // MARK: Queries

    public var isHalted: Bool { state.halted }
    public func bestPrices() -> (bid: Price?, ask: Price?) { (state.book.bestBid, state.book.bestAsk) }
    public func ticker(nowMillis: Int64) -> TickerView { state.ticker(nowMillis: nowMillis) }
    public func depth(_ levels: Int) -> DepthView { state.depth(levels) }
    public func trades(limit: Int) -> [PublicTrade] { state.marketData.trades(limit: limit) }
    public func candles(_ interval: CandleInterval, limit: Int) -> [CandleView] {
        state.marketData.candles(interval, limit: limit)
    }
    public func stateHash() -> UInt64 { state.book.stateHash }

    private func publish(_ events: [BookEvent], nowMillis: Int64) {
        guard feed.hasSubscribers, !events.isEmpty else { return }
        for event in events {
            if case .trade(let trade) = event.kind {
                feed.send(
                    channel: .trades(symbol),
                    .trade(
                        PublicTrade(
                            tradeID: trade.id, price: trade.price, quantity: trade.quantity,
                            takerSide: trade.takerSide, timestampMillis: nowMillis), symbol: symbol))
            }
        }
        feed.send(channel: .orderbook(symbol), .orderbook(state.depth(20)))
        feed.send(channel: .ticker(symbol), .ticker(state.ticker(nowMillis: nowMillis)))
    }
}
