import API
import Foundation
import TestSupport
import Testing

/// `bourse admin` as an operator runs it: the real binary against a real `bourse start` process, on both
/// stores. Exit statuses and output, and a market added through it still there after a restart.
@Suite("End to end: the bourse admin CLI", .serialized)
struct AdminCLITests {
    static let password = "admin-cli-password"

    @Test(.timeLimit(.minutes(3)), arguments: NodeStore.allCases)
    func adminCommandsAgainstARealNode(_ kind: NodeStore) async throws {
        try await ProcessRestartTests.withNodes(kind, timeout: .seconds(150)) { storage, nodes in
            let storage = try Self.withAdminConfiguration(storage)
            let first = nodes.track(try await NodeProcess.start(storage, name: "first"))
            let node = "http://127.0.0.1:\(first.port)"
            try await ProcessRestartTests.with(first) { api in
                let users = try await NodeLoad.users(api, count: 3, prefix: "cli")
                let acknowledged = try await NodeLoad.orders(api, users, count: 60, seed: 11)
                #expect(acknowledged.count > 20)
            }

            let verify = try await CLI.run(["admin", "--node", node, "verify"])
            #expect(verify.status == 0, "\(verify)")
            #expect(verify.stdout.hasPrefix("verify: ok — 0 violations, 3 markets, 1024 account shards, 3 users"))
            #expect(verify.stdout.contains("fills_settled          ok"), "\(verify.stdout)")
            let verifyJSON = try await CLI.run(["admin", "--json", "--node", node, "verify"])
            #expect(verifyJSON.status == 0)
            #expect(verifyJSON.json["ok"] == true && verifyJSON.json["checks"]?.arrayValue?.count == 8)

            let shards = try await CLI.run(["admin", "--node", node, "--json", "shards"])
            #expect(shards.status == 0, "\(shards.stderr)")
            let rows = try #require(shards.json.arrayValue)
            #expect(rows.count == 3 + 1024)
            #expect(rows.first?["shard"] == "symbol/BTC-USD" && rows.last?["shard"] == "accounts/1023")
            #expect(rows.allSatisfy { $0["owner"] == "e2e" })
            #expect(rows.contains { $0["kind"] == "accounts" && $0["journal_sequence"] != 0 })
            let table = try await CLI.run(["admin", "shards", "--node", node])
            #expect(table.status == 0 && table.stdout.hasPrefix("SHARD"))

            let status = try await CLI.run(["admin", "--node", node, "status"])
            #expect(status.status == 0)
            #expect(status.stdout.hasPrefix("node e2e, ring version 1, 1027 shards (3 symbol, 1024 accounts)"))
            #expect(status.stdout.contains("127.0.0.1:\(first.port)"))

            let add = try await CLI.run([
                "admin", "--node", node, "markets", "add", "ADA-USD", "--tick-size", "0.0001", "--lot-size", "1",
                "--min-quantity", "10",
            ])
            #expect(add.status == 0, "\(add)")
            #expect(add.stdout.hasPrefix("added market ADA-USD"))
            let duplicate = try await CLI.run([
                "admin", "--node", node, "markets", "add", "ADA-USD", "--tick-size", "0.0001", "--lot-size", "1",
            ])
            #expect(duplicate.status == 2)
            #expect(duplicate.stderr == "error: CONFLICT: market ADA-USD already exists (HTTP 409)\n")
            let invalid = try await CLI.run([
                "admin", "--node", node, "--json", "markets", "add", "BAD-USD", "--tick-size", "0.000000001",
                "--lot-size", "1",
            ])
            #expect(invalid.status == 2)
            #expect(invalid.json["error"]?["code"] == "VALIDATION_ERROR")
            let halt = try await CLI.run(["admin", "--node", node, "markets", "halt", "ADA-USD"])
            #expect(halt.status == 0 && halt.stdout == "ADA-USD: halted\n")

            let drain = try await CLI.run(["admin", "--node", node, "drain", "e2e"])
            #expect(drain.status == 2)
            #expect(drain.stderr == "error: CONFLICT: cannot drain the only node (HTTP 409)\n")
            let move = try await CLI.run(["admin", "--node", node, "move", "accounts/0007", "n2"])
            #expect(move.status == 2 && move.stderr.contains("NOT_FOUND: unknown node n2"))
            let wrong = try await CLI.run(["admin", "--node", node, "--password", "wrong password", "status"])
            #expect(wrong.status == 2 && wrong.stderr.hasPrefix("error: login as admin failed: UNAUTHORIZED"))
            #expect(!wrong.stderr.contains("wrong password"))
            // Bad usage is 64, not a failed request's 2.
            let anonymous = try await CLI.run(["admin", "--node", node, "status"], password: nil)
            #expect(anonymous.status == 64 && anonymous.stderr.hasPrefix("error: no credentials"))
            for bad in ["http://127.0.0.1:notaport", "https://127.0.0.1:\(first.port)", ""] {
                let usage = try await CLI.run(["admin", "--node", bad, "status"])
                #expect(usage.status == 64 && usage.stderr.hasPrefix("error: --node"), "\(bad): \(usage)")
            }
            // A password on the command line wins over a stale token left in the environment.
            let stale = try await CLI.run(
                ["admin", "--node", node, "--password", Self.password, "status"], password: nil,
                environment: ["BOURSE_TOKEN": "stale"])
            #expect(stale.status == 0, "\(stale)")

            #expect(await first.terminate(within: .seconds(15)) == 0)
            let second = nodes.track(try await NodeProcess.start(storage, name: "second"))
            let secondNode = "http://127.0.0.1:\(second.port)"
            let markets = try await CLI.run(
                ["admin", "--node", secondNode, "--json", "markets", "list"], password: nil)
            #expect(markets.status == 0)
            let ada = markets.json.arrayValue?.first { $0["symbol"] == "ADA-USD" }
            #expect(ada?["tick_size"] == "0.0001" && ada?["min_quantity"] == "10" && ada?["status"] == "halted")
            let list = try await CLI.run(["admin", "--node", secondNode, "markets", "list"], password: nil)
            #expect(list.stdout.contains("ADA-USD  ADA   USD    0.0001"), "\(list.stdout)")
            let resume = try await CLI.run(["admin", "--node", secondNode, "markets", "resume", "ADA-USD"])
            #expect(resume.status == 0 && resume.stdout == "ADA-USD: trading\n")
            let after = try await CLI.run(["admin", "--node", secondNode, "verify"])
            #expect(after.status == 0, "\(after)")
            #expect(await second.terminate(within: .seconds(15)) == 0)
        }
    }

    /// The same store, started with a cluster.yaml that sets the admin's password (created at first start)
    /// and a login limit the CLI's logins stay under.
    static func withAdminConfiguration(_ storage: NodeStorage) throws -> NodeStorage {
        let path = "\(storage.directory)/cluster.yaml"
        try """
        auth:
          admin_password: "\(password)"
        limits:
          login_per_minute: 1000
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return NodeStorage(
            arguments: storage.arguments + ["--config", path], directory: storage.directory, cleanup: storage.cleanup)
    }
}

/// One run of the `bourse` binary, its output read whole.
struct CLI: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var json: JSONValue { (try? JSONParser().parse(stdout)) ?? .null }
    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }

    /// Runs `bourse arguments…` with `BOURSE_ADMIN_PASSWORD` set to `password` (and no other `BOURSE_*`
    /// variable); killed after `timeout`.
    static func run(
        _ arguments: [String], password: String? = AdminCLITests.password, environment extra: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> CLI {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-cli-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outPath = directory.appendingPathComponent("stdout")
        let errPath = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outPath.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath.path, contents: nil)
        let process = Process()
        // `binary(file:)` walks up from a file in Support/, as NodeProcess's own callers are.
        let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/x")
        process.executableURL = URL(fileURLWithPath: try NodeProcess.binary(file: support.path))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOURSE_") }
        environment["BOURSE_ADMIN_PASSWORD"] = password
        environment.merge(extra) { _, new in new }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: outPath)
        process.standardError = try FileHandle(forWritingTo: errPath)
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw HarnessError("bourse \(arguments.joined(separator: " ")) did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return CLI(
            status: process.terminationStatus, stdout: try String(contentsOf: outPath, encoding: .utf8),
            stderr: try String(contentsOf: errPath, encoding: .utf8))
    }
}
