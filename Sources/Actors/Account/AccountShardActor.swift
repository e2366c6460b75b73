import Logging
import Metrics
import Storage
import Synchronization
import Trading

/// The owner of one account shard (`accounts/0417`): the users hashed to it, activated on first use.
/// Commands are applied to the state (which refuses bad ones without changing anything), then
/// journaled; callers are answered once the record is durable.
public actor AccountShardActor: SnapshottingActor {
    public let index: Int
    public var journal: JournalPipeline
    public let store: any JournalStore
    private(set) var state: AccountShardState
    public let logger: Logger
    var snapshots = SnapshotSchedule(every: 1_000)
    let feed: MarketFeed
    /// Where the read-model rows go once durable (`nil`: no read models).
    let projections: ProjectionWriter?
    /// Rows of applied commands that are not durable yet, by journal sequence, oldest first.
    var unprojected: [(sequence: Int64, rows: ProjectionBatch)] = []
    /// The journal sequence of the latest record that settled each symbol's book events, in this actor's life (what
    /// it recovered is durable already): a redelivery of events applied here answers with it, so that the book
    /// keeps them until that record is durable.
    var settlementRecords: [String: Int64] = [:]
    /// How far the journal is durable in the store, readable without a hop (`isDurable(through:)`).
    private nonisolated let durableMark = Atomic<Int64>(0)
    public let journalFailures: JournalFailures?

    init(
        index: Int, markets: [String: MarketSpec], store: any JournalStore, epoch: Int64, feed: MarketFeed,
        projections: ProjectionWriter? = nil, failures: JournalFailures? = nil, logger: Logger
    ) {
        self.index = index
        journalFailures = failures
        self.store = store
        self.feed = feed
        self.projections = projections
        self.logger = logger
        state = AccountShardState(index: index, markets: markets)
        journal = JournalPipeline(shard: ShardKey.account(index: index), epoch: epoch, lastSequence: 0)
    }

    /// Restores the latest snapshot and replays the journal after it.
    /// - Parameter start: the snapshot and first records, when the caller read them for many shards at once
    ///   (`recoveryStarts`); the rest of the journal is read from the store.
    func recover(from start: RecoveryStart? = nil) async throws {
        var after: Int64 = 0
        let snapshot: ShardSnapshot?
        if let start {
            snapshot = start.snapshot
        } else {
            snapshot = try await store.latestSnapshot(shard: journal.shard)
        }
        if let snapshot {
            state = try AccountShardState(index: index, markets: state.markets, snapshot: snapshot.payload)
            after = snapshot.sequence
            snapshots.restored(at: after)
        }
        var prefetched = start?.records
        // A head that holds every record after the snapshot needs no further read.
        var complete = false
        while !complete {
            let records: [JournalRecord]
            if let head = prefetched {
                records = head
                prefetched = nil
                complete = start?.isComplete ?? false
            } else {
                records = try await store.records(shard: journal.shard, after: after, limit: 5_000)
            }
            if records.isEmpty { break }
            for record in records {
                let decoded = try AccountShardState.Record(decoding: record.payload)
                do {
                    _ = try state.apply(decoded)
                } catch {
                    // Only commands that applied were journaled; a refusal now means the code changed.
                    logger.error(
                        "journal record refused on replay",
                        metadata: ["shard": "\(journal.shard)", "sequence": "\(record.sequence)"])
                }
                after = record.sequence
            }
        }
        journal = JournalPipeline(shard: journal.shard, epoch: journal.epoch, lastSequence: after)
        durableMark.store(after, ordering: .releasing)
        if after > 0 {
            logger.info("account shard recovered", metadata: ["shard": "\(journal.shard)", "sequence": "\(after)"])
        }
        await reprojectIfBehind()
    }

    /// Applies and journals a command; returns its outcome once durable.
    func execute(_ command: AccountShardState.Command, nowMillis: Int64) async throws -> AccountShardState.Outcome {
        // A failed or retired journal would refuse the record: the state must not take the command either.
        if let broken = journal.broken { throw unavailable(broken) }
        let (record, outcome) = try apply(command, nowMillis: nowMillis)
        try await commit(record.encoded())
        return outcome
    }

    /// Applies a new order's reservation and journals it without waiting: the order's book does not let its own
    /// record be committed without the returned position (`SymbolActor.place(_:settledThrough:nowMillis:
    /// after:)`), so the two appends overlap and a book never holds an order whose reservation could be lost.
    /// Whoever answers for the order must see that sequence durable first (`order(_:durableThrough:)`).
    func reserve(_ command: AccountShardState.Command, nowMillis: Int64) throws
        -> (outcome: AccountShardState.Outcome, position: JournalPosition)
    {
        if let broken = journal.broken { throw unavailable(broken) }
        let (record, outcome) = try apply(command, nowMillis: nowMillis)
        let sequence = try journalInBackground(record.encoded(), awaitedByDependents: true)
        return (outcome, JournalPosition(shard: journal.shard, epoch: journal.epoch, sequence: sequence))
    }

    /// Applies a command and journals it without waiting (see `journalInBackground`).
    private func applyInBackground(_ command: AccountShardState.Command, nowMillis: Int64) throws -> Int64 {
        if let broken = journal.broken { throw broken }
        return try journalInBackground(apply(command, nowMillis: nowMillis).record.encoded())
    }

    /// Applies a command to the state (which refuses bad ones unchanged) and keeps its read-model rows.
    private func apply(_ command: AccountShardState.Command, nowMillis: Int64) throws
        -> (record: AccountShardState.Record, outcome: AccountShardState.Outcome)
    {
        let record = AccountShardState.Record(timestampMillis: nowMillis, command: command)
        // Marks are taken of the users as they are, so a passivated user is activated before.
        if projections != nil { state.activate(for: command) }
        let marks = projections == nil ? nil : state.projectionMarks(for: command)
        let outcome = try state.apply(record)
        if let marks { captureProjection(since: marks, outcome: outcome) }
        return (record, outcome)
    }

    /// Whether the request reuses a client order id (then nothing must be journaled), with the journal sequence
    /// the order's reservation is at or below (the order is in memory, so its record was queued by then): a retry
    /// is answered only once that is durable.
    func existingOrder(user: UserID, clientOrderID: String?) -> (record: OrderRecord, through: Int64)? {
        guard let client = clientOrderID else { return nil }
        state.activate(user)
        guard let id = state.users[user]?.clientOrderIDs[client], let record = state.users[user]?.orders[id] else {
            return nil
        }
        return (record, journal.lastSequence)
    }

    /// Book events of a symbol for this shard's orders (at-least-once; redeliveries are skipped).
    ///
    /// The events are settled at once but journaled in the background: they are durable in the symbol's
    /// journal already, and a settlement lost in a crash is redone when the symbol redelivers them. The receipt
    /// gives the journal sequence of the settlement record (`nil` when nothing was new and what was settled is
    /// durable: events settled here already get the record that settled them until it is), this actor's epoch
    /// and how far its journal is durable, for a symbol that keeps the events until their settlement is durable.
    ///
    /// - Throws: `.conflict` when `expectedEpoch` is not this actor's (the shard changed owners since the
    ///   symbol's unconfirmed deliveries: what the old owner settled may be lost, and nothing is applied, so
    ///   that the symbol sends those events first); `.unavailable` when the journal is retired or broken.
    func deliver(symbol: String, batches: [BookEventBatch], expectedEpoch: Int64? = nil) throws -> DeliveryReceipt {
        if let expectedEpoch, expectedEpoch != journal.epoch {
            throw Self.epochChanged(journal.shard, journal.epoch, expected: expectedEpoch)
        }
        if let broken = journal.broken { throw broken }
        let started = ContinuousClock.now
        var sequence: Int64?
        var touched = Set<OrderID>()
        for batch in batches {
            let last = state.lastBookSequence[symbol] ?? 0
            let fresh = batch.events.filter { $0.sequence > last }
            guard !fresh.isEmpty else {
                // Applied here already, but perhaps not durable yet: a book reloaded meanwhile sends its events
                // again, and dropping them on a receipt without a sequence lost the fills' settlement when this
                // shard's own write then failed and it was reloaded from its journal (chaos `dbstop`, finding K).
                if let record = settlementRecords[symbol], record > journal.durableSequence {
                    sequence = max(sequence ?? 0, record)
                }
                continue
            }
            do {
                sequence = try applyInBackground(
                    .bookEvents(symbol: symbol, events: fresh), nowMillis: batch.timestampMillis)
                settlementRecords[symbol] = sequence
            } catch {
                // Not settled: the symbol keeps the events and sends them again (here once recovered, or to
                // the shard's next owner; what was applied before is skipped).
                logger.error(
                    "book events not journaled", metadata: ["shard": "\(journal.shard)", "symbol": "\(symbol)"])
                throw error
            }
            if feed.hasSubscribers { touched.formUnion(fresh.flatMap(\.orderIDs)) }
        }
        for id in touched where OrderIDs.shard(of: id) == index {
            if let user = state.orderOwners[id], let order = state.users[user]?.orders[id] {
                feed.send(channel: .orders, user: user, .order(order.view))
            }
        }
        if sequence != nil { Self.settleLatency.record(duration: ContinuousClock.now - started) }
        return DeliveryReceipt(sequence: sequence, epoch: journal.epoch, durable: journal.durableSequence)
    }

    /// Returns once the journal is durable through `sequence`, written with `epoch` when given.
    /// - Throws: `.conflict` when the shard is at another epoch here (its records of `epoch` are not this
    ///   actor's to vouch for), or what the journal failed with.
    func awaitDurable(through sequence: Int64, epoch: Int64?) async throws {
        if let epoch, epoch != journal.epoch { throw Self.epochChanged(journal.shard, journal.epoch, expected: epoch) }
        try await awaitDurable(through: sequence)
    }

    static func epochChanged(_ shard: String, _ epoch: Int64, expected: Int64) -> BourseError {
        BourseError(.conflict, "\(shard) is at epoch \(epoch) here, not \(expected): it changed owners")
    }

    /// Time to settle one delivery of book events that held something new (the journal write is not in it).
    static let settleLatency = Metrics.Timer(label: "bourse_settle_latency")

    /// Orders that were reserved but never reached a book (the node stopped in between): rejected and
    /// released. Run once every symbol has recovered and redelivered its events.
    func abandonUnacknowledged(nowMillis: Int64) async {
        for (_, account) in state.users {
            for (id, order) in account.orders where !order.acknowledged && order.view.status.isOpen {
                _ = try? await execute(.abandon(orderID: id, reason: .invalidOrder), nowMillis: nowMillis)
            }
        }
    }

    /// The places of this shard's orders that no book has answered, created at or before `createdBy`, oldest
    /// first, each as its book must see it (a market or stop buy at the protection price its reservation covers)
    /// with the shard's watermark: what a resubmission sends again. Only places whose reservations are durable:
    /// none while the journal is broken or cannot be made durable (a book must never hold an order whose
    /// reservation could be lost).
    func unansweredPlaces(createdBy: Int64) async -> [UnansweredPlace] {
        guard journal.broken == nil else { return [] }
        let through = journal.lastSequence
        let settled = state.settledThrough
        let places = state.unanswered.ids.compactMap { id -> UnansweredPlace? in
            guard let owner = state.orderOwners[id], let record = state.users[owner]?.orders[id],
                record.view.status.isOpen, record.view.createdAtMillis <= createdBy
            else { return nil }
            let request = record.request
            var price = request.price
            if request.type == .market || request.type == .stop {
                price =
                    request.side == .buy
                    ? state.users[owner]?.ledger.reservation(symbol: request.symbol, orderID: id)?.price : nil
            }
            let order = NewOrder(
                id: id, owner: owner, side: request.side, type: request.type, price: price,
                stopPrice: request.stopPrice, quantity: request.quantity, timeInForce: request.timeInForce,
                postOnly: request.postOnly)
            return (request.symbol, order, settled)
        }
        guard !places.isEmpty, (try? await awaitDurable(through: through)) != nil else { return [] }
        return places
    }

    typealias UnansweredPlace = (symbol: String, order: NewOrder, settledThrough: OrderID)

    /// The shard is no longer served here (handed off or abandoned): commands still reaching this actor are
    /// refused (`unavailable`); the shard's next actor, here or on another node, takes them.
    func retire() {
        if journal.broken == nil { journal.broken = BourseError(.unavailable, "\(journal.shard) is not served here") }
        // Books' records that depend on reservations this journal has not committed fail now (their orders are
        // repaired as never booked) rather than wait for records it may never append.
        store.abandon(shard: journal.shard, epoch: journal.epoch)
    }

    /// Adopts the epoch of the lease just taken; later records carry it.
    func setEpoch(_ epoch: Int64) {
        if epoch != journal.epoch { store.abandon(shard: journal.shard, epoch: journal.epoch) }
        journal = JournalPipeline(shard: journal.shard, epoch: epoch, lastSequence: journal.lastSequence)
    }

    public func didCommit(through sequence: Int64) async {
        durableMark.store(sequence, ordering: .releasing)
        handOffProjection(through: sequence)
        snapshotIfDue()
    }

    func snapshotEncoder() -> @Sendable () -> [UInt8] {
        let state = self.state
        return { state.snapshot() }
    }
    func prepareToSave(through sequence: Int64) async throws {}

    func setSnapshotEvery(_ records: Int64) { snapshots.setEvery(records) }

    /// A market added at run time: its orders can be reserved and settled from now on. A spec already
    /// known is kept as it is.
    func addMarket(_ spec: MarketSpec) {
        if state.markets[spec.symbol] == nil { state.markets[spec.symbol] = spec }
    }

    /// Test hook (not API): changes the state in place without journaling, to corrupt it on purpose.
    func _mutateStateForTesting(_ body: (inout AccountShardState) -> Void) { body(&state) }

    /// Passivates up to `limit` of the users not used since the previous sweep (see
    /// `AccountShardState.passivateIdle`); `done` once none is left. Returns how many users are active and
    /// passivated now.
    func passivateIdle(limit: Int) -> (done: Bool, active: Int, passive: Int, passiveBytes: Int) {
        let done = state.passivateIdle(limit: limit).done
        return (done, state.users.count, state.passive.count, state.passiveBytes)
    }

    // MARK: Queries (each activates the user it reads)
    func account(_ user: UserID) -> UserAccount? {
        state.activate(user)
        return state.users[user]
    }
    func order(_ id: OrderID) -> OrderRecord? {
        guard let owner = state.orderOwners[id] else { return nil }
        state.activate(owner)
        return state.users[owner]?.orders[id]
    }
    /// Whether the journal is durable in the store through `sequence`, without a hop to the actor (it may say
    /// no a moment after it is: `awaitDurable(through:)` is the answer that waits).
    nonisolated func isDurable(through sequence: Int64) -> Bool {
        durableMark.load(ordering: .acquiring) >= sequence
    }

    /// The order, once this shard's journal is durable through `sequence` (its reservation's record).
    func order(_ id: OrderID, durableThrough sequence: Int64) async throws -> OrderRecord? {
        try await awaitDurable(through: sequence)
        return order(id)
    }
    var anomalies: Int { state.anomalies }
    /// Where the shard stands, for the admin API: journal and last snapshot.
    var progress: ShardProgress {
        ShardProgress(
            shard: journal.shard, epoch: journal.epoch, journalSequence: journal.lastSequence,
            durableSequence: journal.durableSequence, lastSnapshotSequence: snapshots.last)
    }
    /// What `verify` checks of this shard, with the balances of up to `sampleUsers` users.
    func audit(sampleUsers: Int) -> AccountShardAudit { state.audit(progress: progress, sampleUsers: sampleUsers) }
}
