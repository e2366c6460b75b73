import API
import Foundation
import TestSupport
import Testing

/// SIGTERM under load, in a cluster of three `bourse start` processes on one PostgreSQL: a node leaving
/// (the active one, then a standby) costs the clients nothing. The clients spread over every ready node,
/// following `/readyz` as Kubernetes endpoints do (`ReadyRouter`), and retry a 503 after its `Retry-After`
/// as real clients do; any other failure fails the test.
@Suite("End to end: graceful shutdown of cluster nodes under load", .serialized)
struct GracefulShutdownTests {
    /// Between `/readyz` turning 503 and the handoff: ten of the router's polls.
    static let shutdownDelaySeconds = 1.0
    /// The load's concurrent clients.
    static let clients = 6

    /// The cluster's configuration: the admin password, limits no client of the test reaches, and the delay.
    static func configuration(_ storage: NodeStorage) throws -> NodeStorage {
        let path = "\(storage.directory)/cluster.yaml"
        try """
        node:
          shutdown_delay_seconds: \(shutdownDelaySeconds)
        auth:
          admin_password: "\(AdminCLITests.password)"
        limits:
          requests_per_second: 100000
          burst: 100000
          login_per_minute: 1000
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return NodeStorage(
            arguments: storage.arguments + ["--config", path], directory: storage.directory, cleanup: storage.cleanup)
    }

    @Test(.timeLimit(.minutes(4)))
    func sigtermOfTheActiveNodeThenOfAStandbyFailsNoRequest() async throws {
        try await ProcessRestartTests.withNodes(.postgres, timeout: .seconds(220)) { storage, nodes in
            let storage = try Self.configuration(storage)
            let a = try await ClusterProcessTests.start(storage, "node-a", nodes: nodes)
            let b = try await ClusterProcessTests.start(storage, "node-b", nodes: nodes)
            let c = try await ClusterProcessTests.start(storage, "node-c", nodes: nodes)
            let users = try await ProcessRestartTests.with(b) { api in
                try await NodeLoad.users(api, count: 12, prefix: "graceful")
            }
            let admin = try await ProcessRestartTests.with(c) { api in
                try await api.login("admin", password: AdminCLITests.password)
            }
            #expect(try await ClusterProcessTests.activeNode(via: b, admin: admin) == "node-a")

            let load = try await ReadyRouter.with([a, b, c]) { router in
                let load = RoutedLoad(router: router, users: users, seed: 21)
                async let running: Void = load.run(clients: Self.clients)
                try await Self.waitForRequests(load, atLeast: 200)

                // The active node: not ready at once, the clients move off, it hands off and exits 0.
                let started = ContinuousClock.now
                let activeExit = await a.terminate(within: .seconds(30))
                let activeTook = ContinuousClock.now - started
                #expect(activeExit == 0, "the active node's exit status after SIGTERM: \(a.tail())")
                #expect(activeTook < .seconds(20), "the active node took \(activeTook) to stop")
                print("the active node stopped in \(activeTook):\n\(Self.shutdownLines(a))")
                let next = try await Self.activeNode(via: b, admin: admin)
                #expect(next == "node-b" || next == "node-c", "\(next ?? "none")")
                let afterActive = load.current.requests
                try await Self.waitForRequests(load, atLeast: afterActive + 200)

                // A standby: the same, without a handoff.
                let standby = next == "node-b" ? c : b
                let standbyExit = await standby.terminate(within: .seconds(30))
                #expect(standbyExit == 0, "the standby's exit status after SIGTERM: \(standby.tail())")
                print("the standby stopped:\n\(Self.shutdownLines(standby))")
                let afterStandby = load.current.requests
                try await Self.waitForRequests(load, atLeast: afterStandby + 200)
                load.stop()
                await running
                return load
            }

            let counts = load.current
            print("graceful shutdown under load: \(counts), \(load.acknowledged.count) orders acknowledged")
            #expect(counts.failures == 0, "\(counts)\n\(counts.failureSamples.joined(separator: "\n"))")
            #expect(load.acknowledged.count > 100, "\(counts)")

            // Everything acknowledged is there, on the node left; the books and the money add up.
            let last = [a, b, c].first { $0.isRunning }
            let survivor = try #require(last, "one node is left")
            let state = try await ClusterProcessTests.whenServing(survivor, users[0]) { api in
                try await NodeState.capture(api, users)
            }
            state.expectContains(load.acknowledged.all, of: users)
            state.expectBooksMatchOpenOrders()
            state.expectConservation(deposited: ProcessRestartTests.deposited(users: users.count))
            let verify = try await CLI.run(["admin", "--node", "http://127.0.0.1:\(survivor.port)", "verify"])
            #expect(verify.status == 0, "\(verify)")
        }
    }

    /// The node that serves, once one does (at most 20 s).
    static func activeNode(via node: NodeProcess, admin: Session) async throws -> String? {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let active = try await ClusterProcessTests.activeNode(via: node, admin: admin) { return active }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// The node's log lines about its shutdown, for the test's output.
    static func shutdownLines(_ node: NodeProcess) -> String {
        node.tail(lines: 200).split(separator: "\n").filter {
            ["shutting down", "hand", "drained", "stopped", "left"].contains(where: $0.contains)
        }.joined(separator: "\n")
    }

    /// Waits until the load has sent `count` requests (at most 60 s).
    static func waitForRequests(_ load: RoutedLoad, atLeast count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while load.current.requests < count {
            guard ContinuousClock.now < deadline else {
                throw HarnessError("the load sent \(load.current.requests) of \(count) requests in 60 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
