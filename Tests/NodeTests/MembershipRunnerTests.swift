import Cluster
import Foundation
import Logging
import Storage
import Synchronization
import Testing

@testable import Node

/// Membership runners in one process sharing one store (SQLite: the table logic is the same SQL as on
/// PostgreSQL, tested on both in StorageTests), on a manual clock: each round advances time by 200 ms and
/// steps every live runner once, so the outcome does not depend on how loaded the machine is.
@Suite struct MembershipRunnerTests {
    /// Peers answer probes unless marked down.
    final class Network: PeerProber {
        let down = Mutex(Set<String>())
        func probe(_ member: ClusterMember) async -> Bool { !down.withLock { $0.contains(member.nodeID) } }
    }

    final class ManualClock: Sendable {
        let now = Mutex<Int64>(1_800_000_000_000)
        func advance(_ millis: Int64) { now.withLock { $0 += millis } }
        var read: @Sendable () -> Int64 { { [self] in now.withLock { $0 } } }
    }

    static let shards = (0..<64).map { "accounts/" + String(format: "%04d", $0) } + ["symbol/BTC-USD"]
    static let timings = MembershipConfiguration(
        heartbeatIntervalMillis: 200, probeIntervalMillis: 200, suspectAfterMillis: 1_000, deadAfterMillis: 5_000,
        probeFailuresToSuspect: 3, voteWindowMillis: 5_000)

    static func runner(_ id: String, store: any MembershipStore, network: Network, clock: ManualClock)
        -> MembershipRunner
    {
        var logger = Logger(label: "bourse.membership.tests")
        logger.logLevel = .error
        let machine = MembershipStateMachine(
            nodeID: id, peerAddress: "127.0.0.1:\(9_000 + id.count)", apiAddress: "127.0.0.1:8080",
            incarnation: clock.read(), shards: shards, configuration: timings)
        return MembershipRunner(
            machine: machine, store: store, prober: network, clock: clock.read, logger: logger)
    }

    /// Rounds of 200 ms (each live runner steps once) until `condition` holds, at most `rounds`; returns the
    /// rounds it took, nil if it never held.
    static func rounds(
        _ runners: [MembershipRunner], clock: ManualClock, upTo rounds: Int = 200,
        until condition: () -> Bool
    ) async -> Int? {
        for round in 0..<rounds {
            if condition() { return round }
            clock.advance(200)
            for runner in runners { _ = await runner.step() }
        }
        return condition() ? rounds : nil
    }

    static func withSQLiteStore(_ body: (SQLiteStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bourse-membership-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "bourse.membership.tests")
        logger.logLevel = .error
        let store = try await SQLiteStore(directory: directory, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            try await store.migrate()
            try await body(store)
            await store.shutdown()
            try await group.waitForAll()
        }
    }

    /// A store whose membership read never returns once told to hang (a statement in flight when PostgreSQL
    /// crashed once waited 100 s), otherwise the store below.
    final class HangingStore: MembershipStore {
        let base: any MembershipStore
        let hanging = Atomic(false)
        init(_ base: any MembershipStore) { self.base = base }
        func membership() async throws -> MembershipSnapshot {
            while hanging.load(ordering: .relaxed) { try? await Task.sleep(for: .milliseconds(20)) }
            return try await base.membership()
        }
        func heartbeat(nodeID: String, incarnation: Int64, nowMillis: Int64) async throws -> HeartbeatOutcome {
            try await base.heartbeat(nodeID: nodeID, incarnation: incarnation, nowMillis: nowMillis)
        }
        func suspect(nodeID: String, incarnation: Int64, by voter: String, nowMillis: Int64) async throws -> Bool {
            try await base.suspect(nodeID: nodeID, incarnation: incarnation, by: voter, nowMillis: nowMillis)
        }
        func changeMembership(expectedVersion: Int64, members: [MemberRow], assignment: [UInt8]) async throws -> Bool {
            try await base.changeMembership(expectedVersion: expectedVersion, members: members, assignment: assignment)
        }
        func assignment(version: Int64) async throws -> [UInt8]? { try await base.assignment(version: version) }
    }

    /// A node whose membership loop waits too long for one read stops (`onStuck`, which exits the process): it
    /// could not learn that its peers declared it dead. A read that returns in time does not stop it.
    @Test func aLoopStuckOnOneReadStopsTheNode() async throws {
        try await Self.withSQLiteStore { sqlite in
            let store = HangingStore(sqlite)
            let stuck = Atomic(0)
            var logger = Logger(label: "bourse.membership.tests")
            logger.logLevel = .critical
            let wallClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) }
            let runner = MembershipRunner(
                machine: MembershipStateMachine(
                    nodeID: "n1", peerAddress: "127.0.0.1:9001", apiAddress: "127.0.0.1:8080",
                    incarnation: wallClock(), shards: Self.shards, configuration: Self.timings),
                store: store, prober: Network(), clock: wallClock, tickInterval: .milliseconds(20),
                logger: logger, onStuck: { stuck.add(1, ordering: .relaxed) }, stuckAfter: .milliseconds(200),
                stuckLimit: .seconds(10))
            let task = Task { try await runner.run() }
            defer { task.cancel() }
            let registered = ContinuousClock.now
            while runner.view.member("n1") == nil, ContinuousClock.now - registered < .seconds(10) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(runner.view.member("n1") != nil)
            try await Task.sleep(for: .milliseconds(1_500))  // reads that return: not stuck
            #expect(stuck.load(ordering: .relaxed) == 0)
            store.hanging.store(true, ordering: .relaxed)
            let hung = ContinuousClock.now
            while stuck.load(ordering: .relaxed) == 0, ContinuousClock.now - hung < .seconds(30) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(stuck.load(ordering: .relaxed) == 1)
            #expect(ContinuousClock.now - hung >= .seconds(10))
            store.hanging.store(false, ordering: .relaxed)
        }
    }

    @Test func nodesJoinAndASilentOneIsDeclaredDeadAndItsShardsMove() async throws {
        try await Self.withSQLiteStore { store in
            let network = Network()
            let clock = ManualClock()
            let runners = ["n1", "n2", "n3"].map { Self.runner($0, store: store, network: network, clock: clock) }
            let joined = await Self.rounds(runners, clock: clock) {
                let view = runners[0].view
                return view.members(.active).count == 3 && view.assignment?.members.count == 3
            }
            #expect(
                joined != nil, "three active members: \(runners[0].view.members.map { "\($0.nodeID):\($0.status)" })")
            let before = try #require(runners[0].view.assignment)
            #expect(before.loads.allSatisfy { $0 >= Self.shards.count / 3 && $0 <= Self.shards.count / 3 + 1 })

            // n2 goes silent: no more steps (no heartbeats), no probe answers.
            network.down.withLock { _ = $0.insert("n2") }
            let survivors = [runners[0], runners[2]]
            let rounds = await Self.rounds(survivors, clock: clock) {
                let view = runners[0].view
                return view.member("n2")?.status == .dead && view.assignment?.members.sorted() == ["n1", "n3"]
            }
            let taken = try #require(rounds, "n2 declared dead")
            // Suspected after 1 s of silence and declared on two votes, well before the 5 s fallback.
            #expect(taken * 200 < 5_000, "declared dead after \(taken * 200) ms")
            let after = try #require(runners[0].view.assignment)
            for move in before.moves(to: after) { #expect(move.from == "n2", "only n2's shards move") }
            #expect(after.loads.allSatisfy { $0 >= Self.shards.count / 2 && $0 <= Self.shards.count / 2 + 1 })
            // Every live node routes by the same assignment.
            _ = await Self.rounds(survivors, clock: clock, upTo: 2) { false }
            #expect(runners[2].view.version == runners[0].view.version)
            #expect(runners[2].view.assignment == runners[0].view.assignment)

            // n2 comes back as the same process: it finds itself dead and must stop, not serve.
            #expect(await runners[1].step() == .declaredDead)
            let failing = Task { try await runners[1].run() }
            await #expect(throws: MembershipRunner.Stopped.self) { try await failing.value }
            // A node already shutting down (SIGTERM) when it is declared dead just ends its membership: its
            // shutdown goes on and it exits 0.
            runners[1].beginShutdown()
            let quiet = Task { try await runners[1].run() }
            try await Task.sleep(for: .milliseconds(600))
            quiet.cancel()
            if case .failure(let error) = await quiet.result {
                Issue.record("run failed while shutting down: \(error)")
            }
        }
    }

    @Test func aLeavingNodeTakesItselfOutOfTheAssignment() async throws {
        try await Self.withSQLiteStore { store in
            let network = Network()
            let clock = ManualClock()
            let first = Self.runner("n1", store: store, network: network, clock: clock)
            let second = Self.runner("n2", store: store, network: network, clock: clock)
            let joined = await Self.rounds([first, second], clock: clock) {
                first.view.assignment?.members.count == 2
            }
            #expect(joined != nil)
            var stopped: MembershipStopReason?
            for _ in 0..<100 where stopped == nil {
                clock.advance(200)
                stopped = await second.leaveStep()
                _ = await first.step()
            }
            #expect(stopped == .left)
            _ = await first.step()
            #expect(first.view.assignment?.members == ["n1"])
            #expect(first.view.member("n2")?.status == .dead)
            #expect(first.view.assignment?.shards(ownedBy: "n1").count == Self.shards.count)
        }
    }
}
