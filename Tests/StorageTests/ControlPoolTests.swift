import PostgresNIO
import Synchronization
import Testing

@testable import Storage

/// Leases and membership have a connection pool of their own: a node whose data pool is busy (a handoff
/// saving a thousand snapshots, a burst of read-model writes) still renews its leases and heartbeats. Without
/// it, a node writing big snapshots was voted dead half-way through its handoff (chaos run, finding 5).
@Suite struct ControlPoolTests {
    @Test func leasesAndMembershipDoNotWaitForABusyDataPool() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            _ = try await postgres.acquireLease(
                shard: "accounts/0001", owner: "node-a", ttlMillis: 60_000, nowMillis: 0)
            // Every connection of the data pool (4 in the tests) busy for 15 s: a wide margin, as a run of every suite at
            // once on 2 cores once took 5 s to get the control statements through.
            let finished = Finished()
            let sleepers = (0..<4).map { _ in
                Task {
                    try await postgres.client.query("SELECT pg_sleep(15)", logger: PostgresStore.quiet).drain()
                    finished.count.add(1, ordering: .relaxed)
                }
            }
            try await Task.sleep(for: .milliseconds(500))  // the sleepers hold their connections
            let renewed = try await postgres.renewLeases(
                owner: "node-a", [("accounts/0001", 1)], ttlMillis: 60_000, nowMillis: 1_000)
            _ = try await postgres.membership()
            _ = try await postgres.heartbeat(nodeID: "node-a", incarnation: 1, nowMillis: 1_000)
            #expect(renewed == ["accounts/0001"])
            #expect(finished.count.load(ordering: .relaxed) == 0, "the control statements waited for the data pool")
            for sleeper in sleepers { try await sleeper.value }
            #expect(finished.count.load(ordering: .relaxed) == 4)
        }
    }

    /// Membership has one connection of its own: a node releasing and taking leases by the hundred (joining or
    /// leaving) keeps its heartbeat. With the two sharing a pool, a slow disk kept a heartbeat waiting behind
    /// lease releases until the peers voted the node dead (CI run of routing by shard).
    @Test func membershipDoesNotWaitForABusyLeasePool() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            _ = try await postgres.heartbeat(nodeID: "node-a", incarnation: 1, nowMillis: 0)
            let finished = Finished()
            let sleepers = (0..<PostgresStore.controlConnections).map { _ in
                Task {
                    try await postgres.control.query("SELECT pg_sleep(15)", logger: PostgresStore.quiet).drain()
                    finished.count.add(1, ordering: .relaxed)
                }
            }
            try await Task.sleep(for: .milliseconds(500))  // the sleepers hold the lease pool's connections
            _ = try await postgres.membership()
            _ = try await postgres.heartbeat(nodeID: "node-a", incarnation: 1, nowMillis: 1_000)
            #expect(finished.count.load(ordering: .relaxed) == 0, "membership waited for the lease pool")
            for sleeper in sleepers { try await sleeper.value }
            #expect(finished.count.load(ordering: .relaxed) == PostgresStore.controlConnections)
        }
    }

    /// A lease or membership statement waits at most `connectionWait` for a connection and then fails as
    /// unavailable, so that its loop tries again. After a database outage a membership read once waited on its
    /// pool for good (90 s and more) and its node stopped heartbeating; the read was bounded first, the other
    /// statements now too. Here every connection of both pools is held by a sleeper for longer than the bound.
    @Test func leaseAndMembershipStatementsGiveUpWaitingForAConnection() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            _ = try await postgres.acquireLease(
                shard: "accounts/0002", owner: "node-a", ttlMillis: 60_000, nowMillis: 0)
            _ = try await postgres.heartbeat(nodeID: "node-a", incarnation: 1, nowMillis: 0)
            let finished = Finished()
            let pools =
                Array(repeating: postgres.control, count: PostgresStore.controlConnections) + [postgres.membership]
            let sleepers = pools.map { pool in
                Task {
                    try await pool.query("SELECT pg_sleep(14)", logger: PostgresStore.quiet).drain()
                    finished.count.add(1, ordering: .relaxed)
                }
            }
            try await Task.sleep(for: .milliseconds(500))  // the sleepers hold every connection of both pools
            async let renewal = Self.failure {
                try await postgres.renewLeases(owner: "node-a", [("accounts/0002", 1)], ttlMillis: 60_000, nowMillis: 1)
            }
            async let heartbeat = Self.failure {
                try await postgres.heartbeat(nodeID: "node-a", incarnation: 1, nowMillis: 1)
            }
            async let vote = Self.failure {
                try await postgres.suspect(nodeID: "node-b", incarnation: 1, by: "node-a", nowMillis: 1)
            }
            let failures = await [renewal, heartbeat, vote]
            #expect(failures == [.unavailable, .unavailable, .unavailable])
            #expect(finished.count.load(ordering: .relaxed) == 0, "a statement waited for a sleeper's connection")
            for sleeper in sleepers { try await sleeper.value }
            let renewed = try await postgres.renewLeases(
                owner: "node-a", [("accounts/0002", 1)], ttlMillis: 60_000, nowMillis: 2)
            #expect(renewed == ["accounts/0002"])
        }
    }

    /// The code of the `StorageError` that `body` throws; `nil` when it returns.
    private static func failure(_ body: () async throws -> some Sendable) async -> StorageError.Code? {
        do {
            _ = try await body()
            return nil
        } catch {
            return (error as? StorageError)?.code
        }
    }
}

/// Sleepers done so far.
private final class Finished: Sendable {
    let count = Atomic(0)
}
