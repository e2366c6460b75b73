import Logging
import Storage
import Synchronization
import TestSupport
import Testing
import Trading

@testable import Actors

/// A shard's journal hands the turn to the next batch as soon as the store has committed one, so the next
/// append overlaps the committed batch's `didCommit` (a book's delivery to the accounts); callers of a
/// committed batch are answered after its `didCommit`, in journal order, and never told of a later batch's
/// failure.
@Suite(.timeLimit(.minutes(1)))
struct JournalPipelineTests {
    /// Forwards to a store in memory; records each append's sequences, holds the append that carries
    /// `heldSequence` until `appendGate` opens, and fails the one that carries `failingSequence`.
    final class ScriptedStore: ForwardingStore {
        let base: any JournalStore = InMemoryKeyStore()
        let appended = Mutex<[[Int64]]>([])
        let appendGate = Gate()
        let heldSequence: Int64?
        let failingSequence: Int64?

        init(holding heldSequence: Int64? = nil, failing failingSequence: Int64? = nil) {
            self.heldSequence = heldSequence
            self.failingSequence = failingSequence
        }

        func append(_ records: [JournalRecord]) async throws {
            let sequences = records.map(\.sequence)
            if let heldSequence, sequences.contains(heldSequence) { await appendGate.wait() }
            if let failingSequence, sequences.contains(failingSequence) {
                throw StorageError(.unavailable, "failed on purpose")
            }
            try await base.append(records)
            appended.withLock { $0.append(sequences) }
        }

        var batches: [[Int64]] { appended.withLock { $0 } }
    }

    /// A shard whose `didCommit` runs one at a time, in the order called (as a book's deliveries do), and
    /// waits for `deliveryGate` when it is the one of the batch through `heldDelivery`.
    actor Shard: JournalingActor {
        var journal = JournalPipeline(shard: "test/0001", epoch: 1, lastSequence: 0)
        let store: any JournalStore
        let logger = Logger(label: "bourse.journal-pipeline.tests")
        let heldDelivery: Int64?
        let deliveryGate = Gate()
        /// The `didCommit` calls, in the order they ended.
        private(set) var delivered: [Int64] = []
        /// `didCommit` calls under way (to check that they ran one at a time).
        private(set) var begun: [Int64] = []
        private var delivering = false
        private var deliveryQueue: [CheckedContinuation<Void, Never>] = []

        init(store: any JournalStore, holdingDeliveryThrough heldDelivery: Int64? = nil) {
            self.store = store
            self.heldDelivery = heldDelivery
        }

        func didCommit(through sequence: Int64) async {
            while delivering { await withCheckedContinuation { deliveryQueue.append($0) } }
            delivering = true
            begun.append(sequence)
            if sequence == heldDelivery { await deliveryGate.wait() }
            delivered.append(sequence)
            delivering = false
            if !deliveryQueue.isEmpty { deliveryQueue.removeFirst().resume() }
        }

        func record() async throws { try await commit([1]) }

        var durable: Int64 { journal.durableSequence }
        var last: Int64 { journal.lastSequence }
        var pendingCount: Int { journal.pending.count }
        var isBroken: Bool { journal.broken != nil }
    }

    /// Records an issue unless `condition` holds within 10 s (checked every millisecond).
    static func eventually(_ what: String, _ condition: () async -> Bool) async {
        if await TestSupport.eventually(within: .seconds(10), every: .milliseconds(1), condition) { return }
        Issue.record("not within 10 s: \(what)")
    }

    @Test func theNextAppendOverlapsTheDeliveryOfTheBatchBefore() async throws {
        let store = ScriptedStore()
        let shard = Shard(store: store, holdingDeliveryThrough: 1)
        let first = Task { try await shard.record() }
        await Self.eventually("the first batch is committed and its delivery under way") {
            await shard.begun == [1]
        }
        // The first batch's delivery is held: the next record still goes to the store, not behind it.
        let second = Task { try await shard.record() }
        await Self.eventually("the second batch is appended while the first one's delivery is held") {
            store.batches == [[1], [2]]
        }
        #expect(await shard.delivered.isEmpty)
        #expect(await shard.durable == 0, "durable only once its delivery ran")
        // Nobody is answered before the delivery of its batch; the deliveries end in journal order.
        try await Task.sleep(for: .milliseconds(20))
        #expect(await shard.delivered.isEmpty)
        shard.deliveryGate.open()
        try await first.value
        try await second.value
        #expect(await shard.delivered == [1, 2])
        #expect(await shard.durable == 2)
    }

    @Test func aFailedAppendDoesNotFailTheCallersOfTheCommittedBatchBefore() async throws {
        // Sequence 1's append is held so that 2 and 3 queue up into one batch (3 waits there as a waiter, not
        // as the flusher); that batch's delivery is held while 4's append fails.
        let store = ScriptedStore(holding: 1, failing: 4)
        let shard = Shard(store: store, holdingDeliveryThrough: 3)
        let first = Task { try await shard.record() }
        await Self.eventually("the first append is under way") { await shard.last == 1 }
        let second = Task { try await shard.record() }
        await Self.eventually("the second record is queued") { await shard.last == 2 }
        let third = Task { try await shard.record() }
        await Self.eventually("two records wait for the next batch") { await shard.pendingCount == 2 }
        store.appendGate.open()
        try await first.value
        await Self.eventually("the batch of 2 and 3 is committed and its delivery under way") {
            await shard.begun == [1, 3]
        }
        #expect(store.batches == [[1], [2, 3]])
        let durable = Task { try await shard.awaitDurable(through: 3) }
        let fourth = Task { try await shard.record() }
        await Self.eventually("the fourth record's append failed while the batch before is being delivered") {
            await shard.isBroken
        }
        shard.deliveryGate.open()
        await #expect(throws: BourseError.self) { try await fourth.value }
        // Their records are durable: they are answered as such, after their batch's delivery.
        try await second.value
        try await third.value
        try await durable.value
        #expect(await shard.delivered == [1, 3])
        #expect(await shard.durable == 3)
        await #expect(throws: BourseError.self) { try await shard.record() }
    }
}
