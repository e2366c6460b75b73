import Foundation
import Synchronization
import Testing

@testable import Storage

/// What `body` threw, or success.
private func outcome(_ body: () async throws -> Void) async -> Result<Void, any Error> {
    do {
        try await body()
        return .success(())
    } catch {
        return .failure(error)
    }
}

/// Appends that name prerequisites (`append(_:after:)`): a book's record is never committed without the
/// reservation it depends on, whichever call reaches the group commit first.
@Suite struct PrerequisiteTests {
    static let reservation = JournalPosition(shard: "accounts/0001", epoch: 1, sequence: 1)

    /// Runs `committer` with a writer that logs each batch (calls and dependencies) and refuses the calls whose
    /// first record's shard is in `refusing` — and, as the stores do, the calls that depend on those.
    private static func run(
        _ committer: GroupCommitter, takesDependencies: Bool, refusing: Set<String> = [],
        log: Log
    ) async {
        let write: GroupCommitter.DependentBatchWriter = { requests, dependencies in
            log.withLock { $0.append((requests, dependencies)) }
            var outcomes: [StorageError?] = requests.map {
                refusing.contains($0[0].shard) ? StorageError.staleEpoch($0[0].shard) : nil
            }
            for dependency in dependencies where outcomes[dependency.prerequisite] != nil {
                outcomes[dependency.dependent] = GroupCommitter.prerequisiteError
            }
            return outcomes
        }
        if takesDependencies {
            await committer.run(dependentWriter: write)
        } else {
            await committer.run(writer: { try await write($0, []) })
        }
    }

    typealias Log = Shared<[(calls: [[JournalRecord]], dependencies: [GroupCommitter.Dependency])]>

    /// Runs a committer (see `run`), submits the book's call, waits until it is queued, then the reservation's,
    /// and shuts the committer down: the outcomes of both calls, and what the writer was handed.
    private static func bookThenReservation(takesDependencies: Bool, refusing: Set<String> = []) async throws
        -> (book: Result<Void, any Error>, account: Result<Void, any Error>, log: Log)
    {
        let committer = GroupCommitter()
        let log = Log([])
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await run(committer, takesDependencies: takesDependencies, refusing: refusing, log: log) }
            defer { group.cancelAll() }
            async let book = outcome {
                try await committer.submit([record("symbol/BTC-USD", 1, epoch: 1)], after: [Self.reservation])
            }
            try await Task.sleep(for: .milliseconds(50))
            async let account = outcome { try await committer.submit([record("accounts/0001", 1, epoch: 1)]) }
            let outcomes = (await book, await account)
            await committer.shutdown()
            return (outcomes.0, outcomes.1, log)
        }
    }

    @Test func aCallQueuedBeforeItsPrerequisiteSharesItsBatch() async throws {
        let (book, account, log) = try await Self.bookThenReservation(takesDependencies: true)
        try book.get()
        try account.get()
        let batches = log.withLock { $0 }
        try #require(batches.count == 1)
        let calls = batches[0].calls.map { $0[0].shard }
        #expect(calls == ["accounts/0001", "symbol/BTC-USD"])
        #expect(batches[0].dependencies == [GroupCommitter.Dependency(dependent: 1, prerequisite: 0)])
    }

    @Test func withAWriterThatIsNotToldOfDependenciesACallWaitsForItsPrerequisiteToCommit() async throws {
        let (book, account, log) = try await Self.bookThenReservation(takesDependencies: false)
        try book.get()
        try account.get()
        let batches = log.withLock { $0 }.map { $0.calls.map { $0[0].shard } }
        #expect(batches == [["accounts/0001"], ["symbol/BTC-USD"]])
    }

    @Test(arguments: [true, false])
    func aRefusedPrerequisiteRefusesTheCallThatDependsOnIt(_ takesDependencies: Bool) async throws {
        let (book, account, log) = try await Self.bookThenReservation(
            takesDependencies: takesDependencies, refusing: ["accounts/0001"])
        #expect(throws: StorageError.staleEpoch("accounts/0001")) { try account.get() }
        #expect(throws: GroupCommitter.prerequisiteError) { try book.get() }
        // Told of the dependency, the writer refused the book's call with the reservation's; not told, it
        // never saw the book's call.
        let written = log.withLock { $0 }.flatMap { $0.calls.map { $0[0].shard } }
        #expect(written == (takesDependencies ? ["accounts/0001", "symbol/BTC-USD"] : ["accounts/0001"]))
    }

    @Test func aCallWaitingForAnAbandonedJournalFails() async throws {
        let committer = GroupCommitter()
        let log = Log([])
        let book = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await Self.run(committer, takesDependencies: true, log: log) }
            defer { group.cancelAll() }
            async let book = outcome {
                try await committer.submit([record("symbol/BTC-USD", 1, epoch: 1)], after: [Self.reservation])
            }
            try await Task.sleep(for: .milliseconds(50))
            // Another epoch of the same shard does not concern it.
            committer.abandon(shard: "accounts/0001", epoch: 2)
            try await Task.sleep(for: .milliseconds(50))
            #expect(log.withLock { $0.isEmpty })
            committer.abandon(shard: "accounts/0001", epoch: 1)
            let outcome = await book
            await committer.shutdown()
            return outcome
        }
        #expect(throws: GroupCommitter.prerequisiteError) { try book.get() }
        #expect(log.withLock { $0.isEmpty })
    }

    @Test func shutdownFailsACallWhosePrerequisiteNeverCame() async throws {
        let committer = GroupCommitter()
        let log = Log([])
        let (book, other) = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await Self.run(committer, takesDependencies: true, log: log) }
            async let book = outcome {
                try await committer.submit([record("symbol/BTC-USD", 1, epoch: 1)], after: [Self.reservation])
            }
            try await Task.sleep(for: .milliseconds(50))
            async let other = outcome { try await committer.submit([record("accounts/0002", 1, epoch: 1)]) }
            try await Task.sleep(for: .milliseconds(50))
            await committer.shutdown()
            try await group.waitForAll()
            return (await book, await other)
        }
        #expect(throws: GroupCommitter.prerequisiteError) { try book.get() }
        try other.get()
        #expect(log.withLock { $0 }.flatMap { $0.calls.map { $0[0].shard } } == ["accounts/0002"])
    }

    @Test func aPrerequisiteCommittedBeforeGoesWithoutWaiting() async throws {
        let committer = GroupCommitter()
        let log = Log([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await Self.run(committer, takesDependencies: true, log: log) }
            try await committer.submit([record("accounts/0001", 1, epoch: 1)])
            try await committer.submit([record("symbol/BTC-USD", 1, epoch: 1)], after: [Self.reservation])
            // Committed at an earlier epoch than the shard has committed since: refused, it can never be now.
            try await committer.submit([record("accounts/0001", 2, epoch: 2)])
            await #expect(throws: GroupCommitter.prerequisiteError) {
                try await committer.submit(
                    [record("symbol/BTC-USD", 2, epoch: 1)],
                    after: [JournalPosition(shard: "accounts/0001", epoch: 1, sequence: 3)])
            }
            await committer.shutdown()
            try await group.waitForAll()
        }
        #expect(log.withLock { $0 }.map { $0.dependencies.isEmpty } == [true, true, true])
    }

    /// Both stores' statements refuse a dependent together with its refused prerequisite, in one transaction.
    @Test(arguments: StoreKind.allCases)
    func theStoresRefuseADependentWithItsRefusedPrerequisite(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let account = try await lease(store, "accounts/0001")
            let book = try await lease(store, "symbol/BTC-USD")
            let calls = [
                [record("accounts/0001", 1, epoch: account + 1)],
                [record("symbol/BTC-USD", 1, epoch: book)],
                [record("symbol/ETH-USD", 1, epoch: try await lease(store, "symbol/ETH-USD"))],
            ]
            let dependencies = [GroupCommitter.Dependency(dependent: 1, prerequisite: 0)]
            let outcomes: [StorageError?]
            switch store {
            case let postgres as PostgresStore:
                outcomes = try await postgres.writeBatch(calls, dependencies: dependencies)
            case let sqlite as SQLiteStore: outcomes = try await sqlite.writeBatch(calls, dependencies: dependencies)
            default: Issue.record("unexpected store \(type(of: store))"); return
            }
            #expect(outcomes == [StorageError.staleEpoch("accounts/0001"), GroupCommitter.prerequisiteError, nil])
            #expect(try await store.records(shard: "symbol/BTC-USD", after: 0, limit: 10).isEmpty)
            #expect(try await store.records(shard: "symbol/ETH-USD", after: 0, limit: 10).count == 1)
            // The same batch with the reservation's epoch right commits both.
            let fixed = [[record("accounts/0001", 1, epoch: account)], calls[1]]
            let again: [StorageError?]
            switch store {
            case let postgres as PostgresStore: again = try await postgres.writeBatch(fixed, dependencies: dependencies)
            case let sqlite as SQLiteStore: again = try await sqlite.writeBatch(fixed, dependencies: dependencies)
            default: return
            }
            #expect(again == [nil, nil])
            #expect(try await store.records(shard: "symbol/BTC-USD", after: 0, limit: 10).count == 1)
        }
    }
}

/// Calls awaiting their dependents (`submit(_:after:awaitingDependents:)`, a reservation): held back up to
/// `dependentWait` so that the book's call shares their batch.
extension PrerequisiteTests {
    /// Runs a committer holding calls for `wait` (dependent-aware writer), then `body`, then shuts it down.
    private static func withHoldingCommitter(
        wait: Duration, _ body: (GroupCommitter, Log) async throws -> Void
    ) async throws {
        let committer = GroupCommitter(maxConcurrentBatches: 2, dependentWait: wait)
        let log = Log([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await run(committer, takesDependencies: true, log: log) }
            defer { group.cancelAll() }
            try await body(committer, log)
            await committer.shutdown()
        }
    }

    @Test func aReservationWaitsForTheBooksCallAndSharesItsBatch() async throws {
        try await Self.withHoldingCommitter(wait: .seconds(60)) { committer, log in
            async let account = outcome {
                try await committer.submit(
                    [record("accounts/0001", 1, epoch: 1)], after: [], awaitingDependents: true)
            }
            try await Task.sleep(for: .milliseconds(50))
            #expect(log.withLock { $0.isEmpty }, "the reservation went without its dependent")
            async let book = outcome {
                try await committer.submit([record("symbol/BTC-USD", 1, epoch: 1)], after: [Self.reservation])
            }
            try await account.get()
            try await book.get()
            let batches = log.withLock { $0 }
            try #require(batches.count == 1)
            #expect(batches[0].calls.map { $0[0].shard } == ["accounts/0001", "symbol/BTC-USD"])
            #expect(batches[0].dependencies == [GroupCommitter.Dependency(dependent: 1, prerequisite: 0)])
        }
    }

    @Test func withoutADependentTheReservationGoesWhenItsWaitEndsAndItsShardsLaterCallsDoNotOvertakeIt()
        async throws
    {
        try await Self.withHoldingCommitter(wait: .seconds(2)) { committer, log in
            async let first = outcome {
                try await committer.submit(
                    [record("accounts/0001", 1, epoch: 1)], after: [], awaitingDependents: true)
            }
            try await Task.sleep(for: .milliseconds(20))
            async let second = outcome { try await committer.submit([record("accounts/0001", 2, epoch: 1)]) }
            async let other = outcome { try await committer.submit([record("accounts/0002", 1, epoch: 1)]) }
            try await other.get()  // another shard is not held up
            try await first.get()
            try await second.get()
            let order = log.withLock { $0.flatMap { $0.calls.map { "\($0[0].shard)#\($0[0].sequence)" } } }
            let firstIndex = try #require(order.firstIndex(of: "accounts/0001#1"))
            let secondIndex = try #require(order.firstIndex(of: "accounts/0001#2"))
            #expect(firstIndex < secondIndex)
            #expect(order.firstIndex(of: "accounts/0002#1")! < firstIndex)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aShutdownDoesNotWaitForAReservationsDependent() async throws {
        let committer = GroupCommitter(dependentWait: .seconds(3_600))
        let log = Log([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await Self.run(committer, takesDependencies: true, log: log) }
            async let account = outcome {
                try await committer.submit(
                    [record("accounts/0001", 1, epoch: 1)], after: [], awaitingDependents: true)
            }
            try await Task.sleep(for: .milliseconds(20))
            await committer.shutdown()
            try await account.get()
            #expect(log.withLock { $0.count } == 1)
            try await group.waitForAll()
        }
    }
}
