import Foundation
import Storage
import Synchronization
import Testing

/// Group commit against both stores, and the batching queue on its own.
@Suite struct GroupCommitTests {
    @Test(arguments: StoreKind.allCases)
    func concurrentSingleRecordAppendsShareRoundTrips(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let shardCount = 50
            let appendCount = 2_000
            let shards = (0..<shardCount).map { "accounts/\(1000 + $0)" }
            var epochs: [String: Int64] = [:]
            for shard in shards {
                epochs[shard] = try await lease(store, shard)
            }
            let leased = epochs
            let before = store.commitStatistics
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<appendCount {
                    let shard = shards[index % shardCount]
                    let sequence = Int64(index / shardCount + 1)
                    group.addTask {
                        try await store.append([record(shard, sequence, epoch: leased[shard] ?? 0)])
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - started
            let after = store.commitStatistics
            let batches = after.batches - before.batches
            #expect(after.records - before.records == appendCount)

            for shard in shards {
                let records = try await store.records(shard: shard, after: 0, limit: 1_000)
                #expect(records.map(\.sequence) == Array(Int64(1)...Int64(appendCount / shardCount)))
            }
            let perBatch = Double(appendCount) / Double(max(batches, 1))
            print(
                "group commit [\(kind)]: \(appendCount) appends in \(batches) round trips "
                    + "(\(String(format: "%.1f", perBatch)) records each, largest \(after.largestBatch)) in \(elapsed)")
            #expect(batches >= 1)
            #expect(batches <= appendCount / 10, "group commit should carry many appends per round trip")
        }
    }

    @Test func callsWritingTheSameSequenceNeverShareABatch() async throws {
        let committer = GroupCommitter(maxBatchRecords: 100)
        let batches = Shared<[[[JournalRecord]]]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await committer.run { requests in
                    batches.withLock { $0.append(requests) }
                    return Array(repeating: nil, count: requests.count)
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { callers in
                for index in 0..<20 {
                    callers.addTask { try await committer.submit([record("shard", Int64(index % 2), epoch: 1)]) }
                }
                try await callers.waitForAll()
            }
            await committer.shutdown()
            try await group.waitForAll()
        }
        let written = batches.withLock { $0 }
        #expect(written.joined().count == 20)
        for batch in written {
            let keys = batch.joined().map(\.sequence)
            #expect(Set(keys).count == keys.count)
        }
        #expect(committer.statistics.batches == written.count)
    }

    @Test func batchesRespectTheCapButNeverSplitACall() async throws {
        let committer = GroupCommitter(maxBatchRecords: 10)
        let sizes = Shared<[Int]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Queue everything before the loop starts, so the batches are built from a full queue.
            for index in 0..<6 {
                group.addTask {
                    try await committer.submit((0..<4).map { record("s\(index)", Int64($0), epoch: 1) })
                }
            }
            group.addTask { try await committer.submit((0..<25).map { record("big", Int64($0), epoch: 1) }) }
            try await Task.sleep(for: .milliseconds(100))
            group.addTask {
                await committer.run { requests in
                    sizes.withLock { $0.append(requests.reduce(0) { $0 + $1.count }) }
                    return Array(repeating: nil, count: requests.count)
                }
            }
            try await committer.shutdown(afterRecords: 49)
            try await group.waitForAll()
        }
        let written = sizes.withLock { $0 }
        #expect(written.reduce(0, +) == 49)
        #expect(written.contains(25))
        #expect(written.allSatisfy { $0 <= 10 || $0 == 25 })
    }

    /// Several batches commit at once, but never two that write the same shard, and each shard's calls are
    /// written in the order they were queued.
    @Test func concurrentBatchesKeepEachShardInOrder() async throws {
        let committer = GroupCommitter(maxBatchRecords: 4, maxConcurrentBatches: 3)
        struct Trace: Sendable {
            var inFlight: [Set<String>] = []
            var mostInFlight = 0
            var overlaps = 0
            var written: [String: [Int64]] = [:]
        }
        let trace = Shared(Trace())
        try await withThrowingTaskGroup(of: Void.self) { group in
            // 12 shards, 3 calls each, queued in sequence order before the loops start.
            for round in 0..<3 {
                for shard in 0..<12 {
                    group.addTask { try await committer.submit([record("s\(shard)", Int64(round), epoch: 1)]) }
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            group.addTask {
                await committer.run { requests in
                    let shards = Set(requests.joined().map(\.shard))
                    trace.withLock { trace in
                        if trace.inFlight.contains(where: { !$0.isDisjoint(with: shards) }) { trace.overlaps += 1 }
                        trace.inFlight.append(shards)
                        trace.mostInFlight = max(trace.mostInFlight, trace.inFlight.count)
                        for record in requests.joined() {
                            trace.written[record.shard, default: []].append(record.sequence)
                        }
                    }
                    // The batches of s0 are slow: the loops that finish first must not take s0's next call.
                    try? await Task.sleep(for: .milliseconds(shards.contains("s0") ? 80 : 10))
                    trace.withLock { trace in trace.inFlight.removeAll { $0 == shards } }
                    return Array(repeating: nil, count: requests.count)
                }
            }
            try await committer.shutdown(afterRecords: 36)
            try await group.waitForAll()
        }
        let seen = trace.withLock { $0 }
        #expect(seen.overlaps == 0)
        #expect(seen.mostInFlight >= 2, "batches should commit concurrently")
        #expect(seen.mostInFlight <= 3)
        #expect(seen.written.count == 12)
        for (shard, sequences) in seen.written {
            #expect(sequences == [0, 1, 2], "\(shard) written out of order")
        }
    }

    /// A closing committer with several loops writes what is queued (also calls held behind a batch in flight)
    /// and stops; every call it acknowledged was written.
    @Test func shutdownWithConcurrentLoopsDrainsTheQueue() async throws {
        let committer = GroupCommitter(maxBatchRecords: 100, maxConcurrentBatches: 4)
        let written = Shared(0)
        let answers = Shared((acknowledged: 0, refused: 0))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await committer.run { requests in
                    try? await Task.sleep(for: .milliseconds(10))
                    written.withLock { $0 += requests.joined().count }
                    return Array(repeating: nil, count: requests.count)
                }
            }
            for index in 0..<50 {
                group.addTask {
                    do {
                        try await committer.submit([record("one", Int64(index), epoch: 1)])
                        answers.withLock { $0.acknowledged += 1 }
                    } catch {
                        answers.withLock { $0.refused += 1 }
                    }
                }
            }
            while written.withLock({ $0 }) == 0 {
                try? await Task.sleep(for: .milliseconds(2))
            }
            await committer.shutdown()
            await group.waitForAll()
        }
        let (acknowledged, refused) = answers.withLock { $0 }
        #expect(acknowledged + refused == 50)
        #expect(acknowledged > 0)
        #expect(written.withLock { $0 } == acknowledged)
    }

    @Test func shutdownBeforeRunFailsQueuedCalls() async throws {
        let committer = GroupCommitter()
        let queued = Task { try await committer.submit([record("s", 1, epoch: 1)]) }
        try await Task.sleep(for: .milliseconds(50))
        await committer.shutdown()
        await #expect(throws: StorageError.self) { try await queued.value }
        await #expect(throws: StorageError.self) { try await committer.submit([record("s", 2, epoch: 1)]) }
        await committer.run { _ in [] }
    }
}

extension GroupCommitter {
    /// Waits until `count` records were written, then shuts the committer down.
    func shutdown(afterRecords count: Int) async throws {
        while statistics.records < count {
            try await Task.sleep(for: .milliseconds(5))
        }
        await shutdown()
    }
}

/// A value that concurrent closures update under a lock.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
