import Logging
import Metrics
import Storage
import Synchronization
import Trading

/// Book events of one symbol record, with the record's time.
public struct BookEventBatch: Sendable, Hashable {
    public var timestampMillis: Int64
    public var events: [BookEvent]

    public init(timestampMillis: Int64, events: [BookEvent]) {
        self.timestampMillis = timestampMillis
        self.events = events
    }
}

extension [BookEventBatch] {
    /// Adds `event` to the last batch if it has the same time, else as a new batch (in place).
    mutating func append(_ event: BookEvent, timestampMillis: Int64) {
        if let last = indices.last, self[last].timestampMillis == timestampMillis {
            self[last].events.append(event)
        } else {
            append(BookEventBatch(timestampMillis: timestampMillis, events: [event]))
        }
    }
}

/// The owner of one market: its order book and market data, journaled command by command.
///
/// A command is applied to the state first (so commands are sequenced in the order the actor runs
/// them), then journaled; callers are answered after their record is durable **and** its book events
/// have been delivered, in book order, to the account shards of the orders concerned.
public actor SymbolActor: SnapshottingActor {
    public let symbol: String
    public let spec: MarketSpec
    public var journal: JournalPipeline
    public let store: any JournalStore
    private(set) var state: SymbolState
    private let accounts: AccountDirectory
    public let logger: Logger
    var snapshots = SnapshotSchedule(every: 1_000)
    /// Per account shard, the events delivered there whose settlement is not known durable yet, with the
    /// epoch of the owner that settled them: kept until that owner says its journal is durable past them, and
    /// sent again if the shard changes owners first (what the old owner settled in memory may be lost with
    /// it). A snapshot is saved only once none is left of the records it covers (a restored symbol redelivers
    /// only the events of the records after its snapshot).
    private var unconfirmed: [Int: UnconfirmedSettlements] = [:]
    /// How many times `unconfirmed` settlements were taken out to be sent again (their owner changed): a
    /// snapshot waiting for settlements does not count on those it was waiting for.
    private var unconfirmedTaken = 0
    /// The shards of `unconfirmed` found at another epoch by a confirmation: the next delivery sends their
    /// events again first.
    private var movedShards: Set<Int> = []
    /// Checks, a while after the last delivery, that the settlements of shards delivered to no more are durable.
    private var confirmation: Task<Void, Never>?
    /// Events applied but not yet delivered, in book order, with the journal sequence of their record:
    /// only events of durable records are delivered.
    private var outbox: [(sequence: Int64, batch: BookEventBatch)] = []
    /// Per account shard, events whose delivery failed (its owner could not be reached), in book order: sent
    /// again, ahead of newer ones, at the next delivery. A snapshot waits until there are none.
    private var undelivered: [Int: [BookEventBatch]] = [:]
    /// One delivery at a time, so that each account shard gets its events in book order.
    private var delivering = false
    private var deliveryQueue: [CheckedContinuation<Void, Never>] = []
    /// Delivers `undelivered` again after a pause, until nothing is left or the shard is retired.
    private var redelivery: Task<Void, Never>?
    private var retired = false
    /// The reservations that records not yet handed to the store depend on, by the sequence of the record that
    /// booked the order: those records are committed only with or after the reservations (`appendable()`).
    private var reservations: [(record: Int64, reservation: Reservation)] = []
    /// `state.halted`, readable without a hop to the actor: an order that needs nothing else of the book
    /// before its reservation (a limit order) reads this instead of `quote`.
    private nonisolated let haltedNow = Atomic<Bool>(false)
    /// The latest price from the market's reference feed (not journaled: the feed sends the next one).
    public private(set) var referencePrice: Price?
    /// Stream subscribers (shared by every actor of the node).
    let feed: MarketFeed
    /// Where fired strategy signals go: the exchange places their orders (shared by every actor of the node).
    let signals: StrategyRuntime
    public let journalFailures: JournalFailures?

    init(
        spec: MarketSpec, store: any JournalStore, epoch: Int64, accounts: AccountDirectory, feed: MarketFeed,
        signals: StrategyRuntime, failures: JournalFailures? = nil, logger: Logger, protectionBps: Int64 = 500
    ) {
        journalFailures = failures
        self.feed = feed
        self.signals = signals
        symbol = spec.symbol
        self.spec = spec
        self.store = store
        self.accounts = accounts
        self.logger = logger
        state = SymbolState(spec: spec, protectionBps: protectionBps)
        journal = JournalPipeline(shard: ShardKey.symbol(spec.symbol), epoch: epoch, lastSequence: 0)
    }

    /// Replays the journal; the events of the replay are queued for redelivery (accounts skip what they
    /// have already applied), and the strategy signals still pending are handed to the exchange again (their
    /// orders carry the signal's client order id, so one placed before is not placed twice).
    func recover() async throws {
        var after: Int64 = 0
        if let snapshot = try await store.latestSnapshot(shard: journal.shard) {
            state = try SymbolState(spec: spec, snapshot: snapshot.payload)
            after = snapshot.sequence
            snapshots.restored(at: after)
        }
        while true {
            let records = try await store.records(shard: journal.shard, after: after, limit: 5_000)
            if records.isEmpty { break }
            for record in records {
                let decoded = try SymbolState.Record(decoding: record.payload)
                outbox.append(
                    (
                        record.sequence,
                        BookEventBatch(timestampMillis: decoded.timestampMillis, events: state.apply(decoded))
                    ))
                after = record.sequence
            }
        }
        journal = JournalPipeline(shard: journal.shard, epoch: journal.epoch, lastSequence: after)
        _ = state.strategies.takeFired()
        for signal in state.strategies.pending(symbol: symbol) { signals.send(signal) }
        haltedNow.store(state.halted, ordering: .relaxed)
        await deliverOutbox(through: after)
        logger.info("symbol recovered", metadata: ["shard": "\(journal.shard)", "sequence": "\(after)"])
    }

    /// Time to apply one book command (matching, without the journal commit).
    static let matchLatency = Metrics.Timer(label: "bourse_match_latency")
    /// Per batch of a book's journal, the time it waited before going to the store for the reservation of its
    /// first order: 0 when that was durable already, or when the store commits the batch with or after the
    /// reservations itself (`JournalStore.ordersAppendsByPrerequisites`).
    static let reservationWait = Metrics.Timer(label: "bourse_book_reservation_wait")
    /// Per durable batch of a book's journal, the time to deliver its events to the account shards concerned
    /// (including waiting for the previous batch's delivery): its orders are answered after it.
    static let deliveryLatency = Metrics.Timer(label: "bourse_book_delivery_latency")

    /// Applies a cancel or an amend (or a place that needs no repeat check) and returns its events once they
    /// are durable and delivered.
    public func submit(_ command: BookCommand, nowMillis: Int64) async throws -> [BookEvent] {
        if case .place = command, state.halted { throw BourseError(.orderRejected, "market \(symbol) is halted") }
        return try await run(.book(command), nowMillis: nowMillis)
    }

    /// Places an account shard's new order, with the shard's watermark (`PlacementLog`); returns its events
    /// once they are durable and delivered. A repeat — the order was placed here before, or its shard has
    /// settled it — is neither applied nor journaled and returns no events (those of the first place were
    /// delivered to the accounts when it was applied).
    public func place(_ order: NewOrder, settledThrough: OrderID, nowMillis: Int64) async throws -> [BookEvent] {
        try await place(order, settledThrough: settledThrough, nowMillis: nowMillis, after: nil)
    }

    /// `place`, for an order whose reservation its account shard may still be journaling: the record that books it
    /// is handed to the store only once the reservation is durable, so the two appends overlap and the book never
    /// holds an order whose reservation a crash could lose (see `appendable()`).
    func place(_ order: NewOrder, settledThrough: OrderID, nowMillis: Int64, after reservation: Reservation?)
        async throws -> [BookEvent]
    {
        if state.placements.isRepeat(order.id) { return [] }
        if state.halted { throw BourseError(.orderRejected, "market \(symbol) is halted") }
        return try await run(.place(order, settledThrough: settledThrough), nowMillis: nowMillis, after: reservation)
    }

    /// The pending records that may be handed to the store, and the reservations they may not be committed
    /// without. A store that orders appends by prerequisites takes them all, with the positions of the
    /// reservations not known durable yet (read without a hop): it commits the book's records with those or
    /// after them. Otherwise the records before the first that books an order whose reservation is not durable
    /// yet; when that is the first, this waits for its reservations. Records held back ride in the next batch.
    /// - Throws: when an account shard's journal failed before a reservation was durable: the book holds an
    ///   order it may not journal, and the shard refuses commands until it is recovered.
    public func appendable() async throws -> (count: Int, after: [JournalPosition]) {
        if store.ordersAppendsByPrerequisites {
            Self.reservationWait.record(duration: .zero)
            guard let first = journal.pending.first?.sequence, let last = journal.pending.last?.sequence else {
                return (journal.pending.count, [])
            }
            var after: [JournalPosition] = []
            for (record, reservation) in reservations where record >= first && record <= last {
                if !reservation.account.isDurable(through: reservation.sequence) { after.append(reservation.position) }
            }
            reservations.removeAll { $0.record <= last }
            return (journal.pending.count, after)
        }
        return (try await appendableCount(), [])
    }

    /// `appendable()` for a store that does not order appends by prerequisites: how many pending records may
    /// go, waiting for the reservations of the first when needed.
    private func appendableCount() async throws -> Int {
        let started = ContinuousClock.now
        defer { Self.reservationWait.record(duration: ContinuousClock.now - started) }
        while let (position, held) = firstHeldReservation() {
            if position > 0 {
                let first = journal.pending[position].sequence
                reservations.removeAll { $0.record < first }
                return position
            }
            do {
                try await held.account.awaitDurable(through: held.sequence)
            } catch {
                logger.error(
                    "an order's reservation was not journaled; the book refuses commands until it is recovered",
                    metadata: [
                        "shard": "\(journal.shard)", "account_shard": "\(held.account.index)", "error": "\(error)",
                    ])
                throw BourseError(.unavailable, "\(journal.shard) is recovering from a journal failure")
            }
        }
        let last = journal.pending.last?.sequence ?? journal.lastSequence
        reservations.removeAll { $0.record <= last }
        return journal.pending.count
    }

    /// The first pending record that books an order whose reservation is not durable yet: its position in
    /// `journal.pending` (whose sequences are consecutive) and that reservation.
    private func firstHeldReservation() -> (position: Int, reservation: Reservation)? {
        guard let first = journal.pending.first?.sequence, let last = journal.pending.last?.sequence else { return nil }
        for (record, reservation) in reservations where record >= first && record <= last {
            if !reservation.account.isDurable(through: reservation.sequence) {
                return (Int(record - first), reservation)
            }
        }
        return nil
    }

    private func run(_ command: SymbolState.Command, nowMillis: Int64, after reservation: Reservation? = nil)
        async throws -> [BookEvent]
    {
        let since = ContinuousClock.now
        let record = SymbolState.Record(timestampMillis: nowMillis, command: command)
        let events = state.apply(record)
        Self.matchLatency.record(duration: ContinuousClock.now - since)
        let fired = state.strategies.takeFired()
        // No suspension between here and the enqueue in `commit`: the next sequence is this record's.
        outbox.append((journal.lastSequence + 1, BookEventBatch(timestampMillis: nowMillis, events: events)))
        publish(events, nowMillis: nowMillis)
        handOver(fired, since: since)
        if let reservation { reservations.append((journal.lastSequence + 1, reservation)) }
        try await commit(record.encoded())
        return events
    }

    /// Applies prices from the market's reference feed as one record: they build (and close) candles, which
    /// runs the strategies; returns once the record is durable and the signals it fired are handed over.
    /// `since` is when the prices reached the node (the signals' tick-to-order latency starts there).
    func reference(_ prints: [ReferencePrint], nowMillis: Int64, since: ContinuousClock.Instant) async throws {
        guard !prints.isEmpty else { return }
        let record = SymbolState.Record(timestampMillis: nowMillis, command: .reference(prints))
        outbox.append(
            (journal.lastSequence + 1, BookEventBatch(timestampMillis: nowMillis, events: state.apply(record))))
        let fired = state.strategies.takeFired()
        referencePrice = prints.last?.price
        handOver(fired, since: since)
        try await commit(record.encoded())
    }

    /// Hands fired signals to the exchange without waiting for the record that fired them to be durable: their
    /// orders reach this market's book only in a later record of this journal, which is durable only after
    /// that one (records commit in order). If the record is lost in a crash, an order the signal reserved but
    /// never booked is abandoned at recovery (its reservation released), like any other.
    private func handOver(_ fired: [FiredSignal], since: ContinuousClock.Instant) {
        guard !fired.isEmpty else { return }
        for signal in fired { signals.send(signal, since: since) }
        Exchange.signalHandoverLatency.record(duration: ContinuousClock.now - since)
    }

    public func setHalted(_ halted: Bool, nowMillis: Int64) async throws {
        let record = SymbolState.Record(timestampMillis: nowMillis, command: halted ? .halt : .resume)
        outbox.append(
            (journal.lastSequence + 1, BookEventBatch(timestampMillis: nowMillis, events: state.apply(record))))
        haltedNow.store(state.halted, ordering: .relaxed)
        try await commit(record.encoded())
    }

    /// Whether the market is halted, as of the last halt or resume applied (no hop to the actor).
    public nonisolated var isHaltedNow: Bool { haltedNow.load(ordering: .relaxed) }

    /// Adopts the epoch of the lease just taken; later records carry it.
    func setEpoch(_ epoch: Int64) {
        journal = JournalPipeline(shard: journal.shard, epoch: epoch, lastSequence: journal.lastSequence)
    }

    public func didCommit(through sequence: Int64) async {
        let started = ContinuousClock.now
        await deliverOutbox(through: sequence)
        Self.deliveryLatency.record(duration: ContinuousClock.now - started)
        snapshotIfDue()
    }

    func snapshotEncoder() -> @Sendable () -> [UInt8] {
        let state = self.state
        return { state.snapshot() }
    }

    /// The records through `sequence` are durable, and so delivered (`durableSequence` moves after
    /// `didCommit`); the accounts' settlements of their events must be durable too. Settlements of later
    /// records need not be: a restored symbol replays those records and delivers their events again (under
    /// steady trading there always are some, and waiting for none would never save a snapshot).
    func prepareToSave(through sequence: Int64) async throws {
        // Through the delivery lock: a redelivery under way holds events that are in neither list until it ends.
        await deliverOutbox(through: journal.durableSequence)
        // Every event of the records through `sequence` is now held in `unconfirmed`, or failed to be delivered.
        guard undelivered.isEmpty, movedShards.isEmpty else {
            throw Self.notSettled(undelivered.count + movedShards.count)
        }
        var due: [Int: Int64] = [:]
        for (shard, held) in unconfirmed {
            if let last = held.entries.last(where: { $0.firstRecord <= sequence }) { due[shard] = last.sequence }
        }
        let taken = unconfirmedTaken
        try await confirmSettlements(due)
        let unsettled = due.filter { shard, through in
            movedShards.contains(shard) || unconfirmed[shard]?.entries.contains { $0.sequence <= through } == true
        }
        guard unsettled.isEmpty, unconfirmedTaken == taken else { throw Self.notSettled(max(1, unsettled.count)) }
    }

    static func notSettled(_ shards: Int) -> BourseError {
        BourseError(.unavailable, "book events not settled durably in \(shards) account shards yet")
    }

    /// Asks the owners of the account shards with unconfirmed settlements delivered to last before `cutoff`
    /// whether those are durable (see `confirmSettlements(_:)`).
    /// - Throws: when an owner could not be reached (the settlements stay unconfirmed).
    private func confirmSettlements(olderThan cutoff: ContinuousClock.Instant) async throws {
        var due: [Int: Int64] = [:]
        for (shard, held) in unconfirmed where held.deliveredAt <= cutoff {
            if let through = held.entries.last?.sequence { due[shard] = through }
        }
        try await confirmSettlements(due)
    }

    /// Asks the owners of account shards whether their settlements are durable through the given sequence of
    /// their journal: confirmed ones are dropped; those of a shard that changed owners since go in
    /// `movedShards`, and the next delivery sends them again ahead of newer events (under the delivery lock,
    /// which this does not take: a delivery under way to such a shard is refused by its epoch guard).
    /// - Throws: when an owner could not be reached (the settlements stay unconfirmed).
    private func confirmSettlements(_ due: [Int: Int64]) async throws {
        var moved = false
        for (shard, through) in due.sorted(by: { $0.key < $1.key }) where !movedShards.contains(shard) {
            guard let held = unconfirmed[shard] else { continue }
            do {
                try await accounts.awaitDurable(shard: shard, through: through, epoch: held.knownEpoch)
                // Later deliveries meanwhile stay (same epoch: they were guarded by it).
                if unconfirmed[shard]?.epoch == held.epoch { unconfirmed[shard]?.confirm(through: through) }
                if unconfirmed[shard]?.entries.isEmpty == true { unconfirmed[shard] = nil }
            } catch let error as BourseError where error.code == .conflict {
                movedShards.insert(shard)
                moved = true
            }
        }
        if moved { scheduleRedelivery() }
    }

    /// Takes the shard's unconfirmed events out, to be sent again ahead of newer ones: its owner changed.
    private func takeUnconfirmed(_ shard: Int, because reason: String) -> [BookEventBatch] {
        movedShards.remove(shard)
        guard let held = unconfirmed.removeValue(forKey: shard) else { return [] }
        unconfirmedTaken += 1
        logger.warning(
            "account shard changed owners before its settlements were durable; sending them again",
            metadata: ["shard": "\(journal.shard)", "account_shard": "\(shard)", "reason": "\(reason)"])
        return held.entries.flatMap(\.batches)
    }

    /// Delivers the events of durable records to the account shards concerned, each shard its events
    /// in book order. Accounts settle them at once and journal them in the background.
    private func deliverOutbox(through sequence: Int64) async {
        while delivering { await withCheckedContinuation { deliveryQueue.append($0) } }
        delivering = true
        defer {
            delivering = false
            if !deliveryQueue.isEmpty { deliveryQueue.removeFirst().resume() }
            if !undelivered.isEmpty { scheduleRedelivery() }
        }
        let count = outbox.prefix { $0.sequence <= sequence }.count
        guard count > 0 || !undelivered.isEmpty || !movedShards.isEmpty else { return }
        // Per shard, its events in book order, stamped with the time of the record that made them (a
        // redelivery after a restart settles them with the same time); what a moved owner may have lost goes
        // first, then what failed before.
        var byShard = undelivered
        undelivered.removeAll()
        for shard in movedShards {
            byShard[shard] = takeUnconfirmed(shard, because: "moved") + (byShard[shard] ?? [])
        }
        // Per shard, the first journal record its events come from (0: events of earlier deliveries, sent again).
        var firstRecord = byShard.mapValues { _ in Int64(0) }
        for (record, batch) in outbox[..<count] {
            for event in batch.events {
                for shard in AccountDirectory.shards(of: event) {
                    byShard[shard, default: []].append(event, timestampMillis: batch.timestampMillis)
                    firstRecord[shard] = min(firstRecord[shard] ?? record, record)
                }
            }
        }
        outbox.removeFirst(count)
        for (shard, fresh) in byShard {
            var batches = fresh
            do {
                let receipt: DeliveryReceipt?
                do {
                    // Guarded by the epoch of the owner holding unconfirmed settlements, if any: a new owner
                    // refuses, and gets those events first (it skips what the old one made durable).
                    receipt = try await accounts.deliver(
                        symbol: symbol, batches: batches, toShard: shard, expectedEpoch: unconfirmed[shard]?.knownEpoch)
                } catch let error as BourseError where error.code == .conflict && unconfirmed[shard] != nil {
                    batches = takeUnconfirmed(shard, because: error.message) + batches
                    firstRecord[shard] = 0
                    receipt = try await accounts.deliver(symbol: symbol, batches: batches, toShard: shard)
                }
                if let receipt { hold(batches, settledBy: receipt, in: shard, firstRecord: firstRecord[shard] ?? 0) }
            } catch {
                // Kept, in order, for the next delivery (at least once: the shard skips what it has applied).
                undelivered[shard] = batches + (undelivered[shard] ?? [])
                logger.warning(
                    "book events not delivered",
                    metadata: ["shard": "\(journal.shard)", "account_shard": "\(shard)", "error": "\(error)"])
            }
        }
    }

    /// Keeps delivered events until their settlement is durable (see `unconfirmed`).
    private func hold(
        _ batches: [BookEventBatch], settledBy receipt: DeliveryReceipt, in shard: Int, firstRecord: Int64
    ) {
        var held = unconfirmed[shard] ?? UnconfirmedSettlements(epoch: receipt.epoch)
        // With the events themselves: an account shard can change owners while this book stays — moved to another
        // node, or reloaded at a new epoch here after its journal failed — and its new owner must get them again.
        if let sequence = receipt.sequence {
            held.entries.append((sequence, firstRecord, batches))
        }
        held.deliveredAt = .now
        held.confirm(through: receipt.durable)
        unconfirmed[shard] = held.entries.isEmpty ? nil : held
        if unconfirmed[shard] != nil { scheduleConfirmation() }
    }

    /// In a while, confirms the settlements of shards not delivered to since (a shard delivered to often has
    /// its earlier settlements confirmed by each receipt).
    private func scheduleConfirmation() {
        guard confirmation == nil, !retired else { return }
        confirmation = Task {
            try? await Task.sleep(for: Self.confirmationPause)
            await self.confirmIdle()
        }
    }

    private func confirmIdle() async {
        confirmation = nil
        guard !retired else { return }
        try? await confirmSettlements(olderThan: .now - Self.confirmationPause)
        if !unconfirmed.isEmpty { scheduleConfirmation() }
    }

    /// How long after its last delivery an account shard is asked whether its settlements are durable.
    static let confirmationPause: Duration = .milliseconds(500)

    func setSnapshotEvery(_ records: Int64) { snapshots.setEvery(records) }

    private func scheduleRedelivery() {
        guard redelivery == nil, !retired else { return }
        redelivery = Task {
            try? await Task.sleep(for: Self.redeliveryPause)
            await self.redeliver()
        }
    }

    private func redeliver() async {
        redelivery = nil
        guard !retired else { return }
        await deliverOutbox(through: journal.durableSequence)
    }

    /// The shard is no longer served here (a stop or a handoff, after its checkpoint): no more redelivery; the
    /// next owner redelivers from its snapshot, which never covers undelivered events. Commands still reaching
    /// this actor are refused (`unavailable`): the shard's next actor, here or on another node, takes them.
    func retire() {
        retired = true
        if journal.broken == nil { journal.broken = BourseError(.unavailable, "\(journal.shard) is not served here") }
        redelivery?.cancel()
        redelivery = nil
        confirmation?.cancel()
        confirmation = nil
    }

    /// Pause before events whose delivery failed are sent again.
    static let redeliveryPause: Duration = .milliseconds(100)

    /// Test hook (not API): changes the state in place without journaling, to corrupt it on purpose.
    func _mutateStateForTesting(_ body: (inout SymbolState) -> Void) {
        body(&state)
        haltedNow.store(state.halted, ordering: .relaxed)
    }

    /// Applies a strategy command and journals it; returns once it is durable.
    func apply(strategy command: StrategyCommand, nowMillis: Int64) async throws {
        let record = SymbolState.Record(timestampMillis: nowMillis, command: .strategy(command))
        _ = state.apply(record)
        try await commit(record.encoded())
    }

    var strategyBook: StrategyBook { state.strategies }

    // MARK: Queries

    public var isHalted: Bool { state.halted }
    public var quote: SymbolQuote {
        SymbolQuote(
            halted: state.halted, bid: state.book.bestBid, ask: state.book.bestAsk, last: state.book.lastTradePrice)
    }
    public func bestPrices() -> (bid: Price?, ask: Price?) { (state.book.bestBid, state.book.bestAsk) }
    public func ticker(nowMillis: Int64) -> TickerView { state.ticker(nowMillis: nowMillis) }
    public func depth(_ levels: Int) -> DepthView { state.depth(levels) }
    public func trades(limit: Int) -> [PublicTrade] { state.marketData.trades(limit: limit) }
    public func candles(_ interval: CandleInterval, limit: Int) -> [CandleView] {
        state.marketData.candles(interval, limit: limit)
    }
    public func stateHash() -> UInt64 { state.book.stateHash }
    /// Where the shard stands, for the admin API: journal and last snapshot.
    var progress: ShardProgress {
        ShardProgress(
            shard: journal.shard, epoch: journal.epoch, journalSequence: journal.lastSequence,
            durableSequence: journal.durableSequence, lastSnapshotSequence: snapshots.last)
    }
    /// What `verify` checks of this book; `undelivered` counts events not yet delivered to the accounts.
    func audit() -> SymbolAudit {
        SymbolAudit(
            state, progress: progress, undelivered: outbox.count + undelivered.values.reduce(0) { $0 + $1.count })
    }

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

/// A new order's reservation being journaled: its account shard and the position of its record there.
struct Reservation: Sendable {
    let account: AccountShardActor
    let position: JournalPosition

    var sequence: Int64 { position.sequence }
}

/// Events delivered to one account shard whose settlement is not known durable yet (see
/// `SymbolActor.unconfirmed`), all settled by the owner at `epoch`.
struct UnconfirmedSettlements: Sendable {
    /// The epoch of the owner that settled them; 0 when unknown (an older node's answer).
    var epoch: Int64
    /// In delivery order: the sequence of the settlement record, the first record of this book's journal whose
    /// events it settled (0 when it settled events sent again, whose records are not known), and the events.
    var entries: [(sequence: Int64, firstRecord: Int64, batches: [BookEventBatch])] = []
    var deliveredAt = ContinuousClock.now

    init(epoch: Int64) { self.epoch = epoch }

    /// The epoch to guard the next delivery and confirmations with (nil: unknown, unguarded).
    var knownEpoch: Int64? { epoch > 0 ? epoch : nil }

    /// Drops the entries durable by `sequence` in the owner's journal.
    mutating func confirm(through sequence: Int64) {
        entries.removeAll { $0.sequence <= sequence }
    }
}
