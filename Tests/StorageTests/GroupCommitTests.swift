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
            while committer.statistics.records < 49 {
                try await Task.sleep(for: .milliseconds(5))
            }
            await committer.shutdown()
            try await group.waitForAll()
        }
        let written = sizes.withLock { $0 }
        #expect(written.reduce(0, +) == 49)
        #expect(written.contains(25))
        #expect(written.allSatisfy { $0 <= 10 || $0 == 25 })
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

/// A value that concurrent closures update under a lock.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
