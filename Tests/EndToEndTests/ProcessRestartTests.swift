import API
import Foundation
import Synchronization
import TestSupport
import Testing

/// The real `bourse` binary on both stores: `kill -9` loses nothing that was acknowledged, and SIGTERM
/// stops cleanly; after a restart the API shows exactly the same state.
/// Serialized, like the other suites of node processes: a fully parallel suite starved the machine (nodes took
/// 20 s to start on the two cores and tests hit their timeouts).
@Suite("End to end: bourse process restarts", .serialized)
struct ProcessRestartTests {
    /// Runs `body` with a fresh store; SIGKILLs every node it started and deletes the store afterwards.
    /// After `timeout` the nodes are killed (which fails whatever request hangs) and the test fails.
    static func withNodes(
        _ kind: NodeStore, timeout: Duration = .seconds(180),
        _ body: @escaping @Sendable (NodeStorage, NodeGuard) async throws -> Void
    ) async throws {
        let storage = try await NodeStorage.make(kind)
        let nodes = NodeGuard()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await body(storage, nodes) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    nodes.killAll()
                    throw HarnessError("timed out after \(timeout): the nodes were killed")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            nodes.killAll()
            Issue.record("node output:\n\(nodes.logs)")
            await storage.cleanup()
            throw error
        }
        nodes.killAll()
        await storage.cleanup()
    }

    /// Runs `body` with an h2c client of `node`.
    static func with<T: Sendable>(_ node: NodeProcess, _ body: (NodeClient) async throws -> T) async throws -> T {
        try await H2Client.withConnection(host: "127.0.0.1", port: node.port) { try await body(NodeClient(h2: $0)) }
    }

    @Test(.timeLimit(.minutes(4)), arguments: NodeStore.allCases)
    func killNineLosesNothingAcknowledged(_ kind: NodeStore) async throws {
        try await Self.withNodes(kind) { storage, nodes in
            let first = nodes.track(try await NodeProcess.start(storage, name: "first"))
            let (users, acknowledged, before) = try await Self.with(first) { api in
                let users = try await NodeLoad.users(api, count: 4)
                let acknowledged = try await NodeLoad.orders(api, users, count: 200, seed: 7)
                return (users, acknowledged, try await NodeState.capture(api, users))
            }
            let statuses = Set(acknowledged.compactMap { $0.order["status"]?.stringValue })
            #expect(acknowledged.count > 100)
            #expect(statuses.isSuperset(of: ["filled", "new"]), "the load should both trade and rest: \(statuses)")
            before.expectContains(acknowledged, of: users)

            first.kill()
            #expect(!first.isRunning)
            let second = nodes.track(try await NodeProcess.start(storage, name: "after-kill"))
            try await Self.with(second) { api in
                let after = try await NodeState.capture(api, users)
                after.expectSame(as: before, "after kill -9")
                after.expectContains(acknowledged, of: users)
                after.expectBooksMatchOpenOrders()
                after.expectConservation(deposited: Self.deposited(users: users.count))
                try await Self.expectTradingContinues(api, after)
            }
            #expect(await second.terminate(within: .seconds(30)) == 0)
        }
    }

    @Test(.timeLimit(.minutes(4)), arguments: NodeStore.allCases)
    func killNineDuringTrafficLosesNothingAcknowledged(_ kind: NodeStore) async throws {
        try await Self.withNodes(kind) { storage, nodes in
            let first = nodes.track(try await NodeProcess.start(storage, name: "first"))
            let acknowledged = Acknowledged()
            let users = try await Self.with(first) { api in
                let users = try await NodeLoad.users(api, count: 4, prefix: "busy")
                // Kill the node while orders are in flight, after 60 acknowledgements.
                async let killed: Void = {
                    await acknowledged.wait(forAtLeast: 60)
                    first.kill()
                }()
                try await NodeLoad.orders(
                    api, users, count: 400, seed: 11, into: acknowledged, untilFailure: true)
                await killed
                return users
            }
            #expect(acknowledged.count >= 60)
            #expect(acknowledged.count < 400, "the node should have been killed during the load")

            let second = nodes.track(try await NodeProcess.start(storage, name: "after-kill"))
            try await Self.with(second) { api in
                let after = try await NodeState.capture(api, users)
                after.expectContains(acknowledged.all, of: users)
                after.expectBooksMatchOpenOrders()
                after.expectConservation(deposited: Self.deposited(users: users.count))
                // Orders reserved but never booked were released: cancelling the rest unlocks everything.
                for user in users {
                    _ = try await api.json(.delete, "/v1/orders", token: user.token)
                    for balance in try await api.json(.get, "/v1/account/balances", token: user.token).arrayValue ?? []
                    {
                        #expect(balance["locked"] == "0.00000000", "\(user.username): \(balance.compact)")
                    }
                }
                try await Self.expectTradingContinues(api, after)
            }
            // What the recovered node journaled (epoch, releases, new trades) recovers too.
            let recovered = try await Self.with(second) { api in try await NodeState.capture(api, users) }
            second.kill()
            let third = nodes.track(try await NodeProcess.start(storage, name: "after-second-kill"))
            try await Self.with(third) { api in
                try await NodeState.capture(api, users).expectSame(as: recovered, "after a second kill -9")
            }
            #expect(await third.terminate(within: .seconds(30)) == 0)
        }
    }

    @Test(.timeLimit(.minutes(4)), arguments: NodeStore.allCases)
    func sigtermExitsCleanlyAndKeepsTheState(_ kind: NodeStore) async throws {
        try await Self.withNodes(kind) { storage, nodes in
            let first = nodes.track(try await NodeProcess.start(storage, name: "first"))
            // Nor must a stream whose client stopped reading hold the stop up: its first write (the load's book
            // events) waits for flow-control window that never comes.
            let stalled = try StalledStreamClient(port: first.port, path: "/v1/stream?channels=orderbook:BTC-USD")
            let (users, before) = try await Self.with(first) { api in
                let users = try await NodeLoad.users(api, count: 2, prefix: "term")
                _ = try await NodeLoad.orders(api, users, count: 40, seed: 3)
                return (users, try await NodeState.capture(api, users))
            }
            // An open event stream must not hold the shutdown up.
            let client = try await H2Client.connect(host: "127.0.0.1", port: first.port)
            let streaming = Mutex(false)
            let stream = Task {
                try await client.streamingRequest(method: .get, path: "/v1/stream?channels=ticker:BTC-USD") {
                    head, body in
                    streaming.withLock { $0 = true }
                    for try await _ in body {}
                    return head.status.code
                }
            }
            // SIGTERM only once the stream is open (a stream opened after it is refused, rightly).
            let deadline = ContinuousClock.now + .seconds(30)
            while !streaming.withLock({ $0 }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(streaming.withLock { $0 }, "the event stream opened")
            // An open stream must not hold the stop up: the node exits by itself, not by SIGKILL at the deadline.
            #expect(await first.terminate(within: .seconds(30)) == 0, "exit status after SIGTERM")
            #expect(try await stream.value == 200)
            try? await client.close()
            withExtendedLifetime(stalled) {}
            #expect(first.tail().contains("node stopped"), "\(first.tail())")

            let second = nodes.track(try await NodeProcess.start(storage, name: "after-term"))
            try await Self.with(second) { api in
                let after = try await NodeState.capture(api, users)
                after.expectSame(as: before, "after SIGTERM")
                try await Self.expectTradingContinues(api, after)
            }
            #expect(await second.terminate(within: .seconds(30)) == 0)
        }
    }

    /// What `NodeLoad.users` deposited for `users` users, in units of 10⁻⁸.
    static func deposited(users: Int) -> [String: Int64] {
        ["USD": Int64(users) * 1_000_000 * 100_000_000, "BTC": Int64(users) * 10 * 100_000_000]
    }

    /// After a restart the node trades on: trade ids continue after the last one, order ids are new.
    static func expectTradingContinues(_ api: NodeClient, _ state: NodeState) async throws {
        let lastTrade = state.markets["BTC-USD"]?["trades"]?[0]?["trade_id"]?.stringValue.flatMap { Int($0) } ?? 0
        let known = Set(state.accounts.values.flatMap { $0["orders"]?.arrayValue ?? [] }.compactMap { $0["order_id"] })
        let fresh = try await NodeLoad.users(api, count: 2, prefix: "fresh")
        // Below every bid of the load: it trades with the best bid, or rests for the buy that follows.
        var placed = try await api.placed(fresh[0], order("sell", "0.001", at: "40000"))
        #expect(!known.contains(placed["order_id"]!), "order ids must not be reused after a restart")
        if placed["fills"] == [] { placed = try await api.placed(fresh[1], order("buy", "0.001", at: "40000")) }
        #expect(placed["fills"]?[0]?["trade_id"]?.stringValue == String(lastTrade + 1), "\(placed.compact)")
    }
}

extension JSONValue {
    /// Element `index` of an array.
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
