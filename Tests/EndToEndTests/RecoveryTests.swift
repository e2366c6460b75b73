import API
import Foundation
import Testing

/// The in-process node restarted on its SQLite directory, with snapshots every few records so that
/// recovery goes through snapshots and journal tails: the API shows the same state, and retries stay
/// idempotent.
@Suite("End to end: recovery from snapshots and journal")
struct RecoveryTests {
    @Test(.timeLimit(.minutes(4)), arguments: [5, 1_000] as [Int64])
    func restartShowsTheSameState(snapshotEvery: Int64) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-e2e-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (users, before, firstDeposit, clientOrder) = try await InProcessNode.run(
            directory: directory, snapshotEvery: snapshotEvery
        ) { node in
            let api = node.api
            var users: [Session] = []
            for index in 0..<3 { users.append(try await api.signUp("trader\(index)")) }
            let flows = try await withThrowingTaskGroup(of: ConservationTests.Flows.self) { group in
                for (index, user) in users.enumerated() {
                    group.addTask {
                        try await ConservationTests.trade(api, user, seed: UInt64(index) + 101, operations: 40)
                    }
                }
                var all: [ConservationTests.Flows] = []
                for try await flow in group { all.append(flow) }
                return all
            }
            #expect(flows.flatMap(\.unexpected) == [])
            let deposit = try await api.deposit(users[0], "USD", "5", key: "before-restart")
            let stop = order("buy", "0.01", type: "stop", extra: ["stop_price": "90000", "client_order_id": "keep"])
            let clientOrder = try await api.placed(users[1], stop)
            return (users, try await NodeState.capture(api, users), deposit, clientOrder)
        }
        try await InProcessNode.run(directory: directory, snapshotEvery: snapshotEvery) { node in
            let api = node.api
            let after = try await NodeState.capture(api, users)
            after.expectSame(as: before, "after a restart (snapshot every \(snapshotEvery))")
            // Retries after the restart return the first results.
            expectJSON(try await api.deposit(users[0], "USD", "5", key: "before-restart"), firstDeposit)
            let stop = order("buy", "0.01", type: "stop", extra: ["stop_price": "90000", "client_order_id": "keep"])
            let replay = try await api.call(.post, "/v1/orders", json: stop, token: users[1].token)
            #expect(replay.status == 200)
            expectJSON(replay.json, clientOrder)
            // Every history is still consistent, and cancelling everything unlocks everything.
            for user in users {
                try await ConservationTests.checkHistory(api, user)
                _ = try await api.json(.delete, "/v1/orders", token: user.token)
                for balance in try await api.json(.get, "/v1/account/balances", token: user.token).arrayValue ?? [] {
                    #expect(balance["locked"] == "0.00000000", "\(user.username): \(balance.compact)")
                }
            }
            #expect(try await api.book("BTC-USD") == Expected.book())
        }
    }
}
