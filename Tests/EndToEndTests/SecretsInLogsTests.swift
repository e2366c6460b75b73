import API
import Foundation
import HTTPTypes
import NIOCore
import Storage
import TestSupport
import Testing

/// Real `bourse start` processes forming a cluster on PostgreSQL (`POSTGRES_URL`, see `NodeStorage`): the peer port
/// refuses whoever lacks the cluster secret, and nothing a node writes to stdout or stderr carries a password, a
/// token, the cluster secret or the database password, whatever the clients did (sign-up, logins good and bad,
/// refreshes, orders, admin calls, requests forwarded by a standby, logout).
@Suite("End to end: the cluster secret guards the peer port; secrets stay out of the logs", .serialized)
struct SecretsInLogsTests {
    /// `prefix` and 32 random hex digits: a value that shows up in a log only if the node wrote it there.
    static func secret(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// A cluster node on `storage`: `--peer-listen` on a free port, the cluster secret and admin password in the
    /// environment (`BOURSE_CLUSTER_SECRET`, `BOURSE_ADMIN_PASSWORD`); active/standby, so that a request through b
    /// is forwarded to a.
    static func start(
        _ storage: NodeStorage, _ id: String, secret: String, adminPassword: String, nodes: NodeGuard
    ) async throws -> (node: NodeProcess, peerPort: Int) {
        let peerPort = try NodeProcess.freePort()
        let node = try await NodeProcess.start(
            storage, name: id, nodeID: id, arguments: ["--peer-listen", "127.0.0.1:\(peerPort)"],
            environment: [
                "BOURSE_CLUSTER_SECRET": secret, "BOURSE_ADMIN_PASSWORD": adminPassword,
                "BOURSE_ROUTING": "active_standby",
            ])
        return (nodes.track(node), peerPort)
    }

    @Test(.timeLimit(.minutes(4)))
    func peerPortRefusesOpeningsWithoutTheClusterSecret() async throws {
        try await ProcessRestartTests.withNodes(.postgres, timeout: .seconds(200)) { storage, nodes in
            var secrets = Secrets()
            let secret = secrets.add("cluster secret", Self.secret("cluster-"))
            let wrongSecret = secrets.add("c's cluster secret", Self.secret("wrong-"))
            let adminPassword = secrets.add("admin password", Self.secret("admin-"))
            let password = secrets.add("user password", Self.secret("user-"))
            let (a, aPeer) = try await Self.start(
                storage, "peer-a", secret: secret, adminPassword: adminPassword, nodes: nodes)
            let (b, bPeer) = try await Self.start(
                storage, "peer-b", secret: secret, adminPassword: adminPassword, nodes: nodes)
            for port in [aPeer, bPeer] {
                for probe in PeerProbe.all {
                    let status = try await probe.send(port: port)
                    #expect(status == probe.expected, "\(probe.name) on the peer port of \(port == aPeer ? "a" : "b")")
                }
            }
            // b holds the secret: a user's requests through b reach a, which serves them.
            let user = try await ProcessRestartTests.with(b) { api in
                try await api.signUp("peer_user", password: password)
            }
            secrets.add("access token", user.token)
            try await ClusterProcessTests.whenServing(b, user) { api in
                try await api.deposit(user, "USD", "100")
                _ = try await api.placed(user, order("buy", "0.001", at: "100"))
            }
            // c has another secret: a refuses its streams, so what c would forward never runs.
            let refusalsBefore = LogLines.read(a.log).count { $0.message == "peer stream refused" }
            let (c, _) = try await Self.start(
                storage, "peer-c", secret: wrongSecret, adminPassword: adminPassword, nodes: nodes)
            let refused = try await ProcessRestartTests.with(c) { api in
                try await api.call(.get, "/v1/orders", token: user.token)
            }
            #expect(refused.status == 503 && refused.errorCode == "UNAVAILABLE", "\(refused)")
            let refusals = LogLines.read(a.log).filter { $0.message == "peer stream refused" }
            #expect(refusals.count > refusalsBefore, "a logged no refusal of c's streams")
            #expect(refusals.allSatisfy { $0.level == "warning" && $0.fields["status"] != nil })
            #expect(
                LogLines.read(c.log).contains {
                    $0.message == "peer refused the stream" && $0.fields["status"] == "401"
                },
                "c was not told 401: \(c.tail())")
            // Nothing c asked for ran: the user's orders are the one placed through b.
            let orders = try await ProcessRestartTests.with(a) { api in
                try await api.json(.get, "/v1/orders", token: user.token)
            }
            #expect(orders.arrayValue?.count == 1)
            // The refusals and the failed forwarding logged no secret.
            for node in [a, b, c] {
                let text = (try? String(contentsOfFile: node.log, encoding: .utf8)) ?? ""
                for leak in secrets.leaks(in: text) {
                    Issue.record("\(node.log) carries the \(leak.name): \(leak.line)")
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func secretsNeverReachTheLogs() async throws {
        try await ProcessRestartTests.withNodes(.postgres, timeout: .seconds(200)) { storage, nodes in
            var secrets = Secrets()
            let clusterSecret = secrets.add("cluster secret", Self.secret("cluster-"))
            let adminPassword = secrets.add("admin password", Self.secret("admin-"))
            let userPassword = secrets.add("user password", Self.secret("user-"))
            let wrongPassword = secrets.add("wrong password", Self.secret("wrong-"))
            let database = try PostgresURL(ProcessInfo.processInfo.environment["POSTGRES_URL"] ?? "")
            if let password = database.password, !password.isEmpty {
                secrets.add("database password", password)
            } else {
                #expect(ProcessInfo.processInfo.environment["CI"] != "true", "POSTGRES_URL has no password in CI")
            }
            let (a, _) = try await Self.start(
                storage, "secrets-a", secret: clusterSecret, adminPassword: adminPassword, nodes: nodes)
            let (b, _) = try await Self.start(
                storage, "secrets-b", secret: clusterSecret, adminPassword: adminPassword, nodes: nodes)
            let alice: JSONValue = ["username": "secret_alice", "password": .string(userPassword)]
            let admin: JSONValue = ["username": "admin", "password": .string(adminPassword)]

            let session = try await ProcessRestartTests.with(a) { api in
                _ = try await api.json(.post, "/v1/auth/register", json: alice, expect: 201)
                let first = try await secrets.login(api, alice)
                let session = Session(userID: "", username: "secret_alice", token: first.access)
                try await api.deposit(session, "USD", "1000")
                let placed = try await api.placed(session, order("buy", "0.001", at: "100"))
                let id = try #require(placed["order_id"]?.stringValue)
                _ = try await api.json(.get, "/v1/orders", token: first.access)
                _ = try await api.json(.delete, "/v1/orders/\(id)", token: first.access)
                let second = try await secrets.refresh(api, first.refresh)
                // A reused refresh token, a wrong password and a tampered access token: refused, and not logged.
                let reused = try await api.call(
                    .post, "/v1/auth/refresh", json: ["refresh_token": .string(first.refresh)])
                #expect(reused.status == 401)
                let wrong = try await api.call(
                    .post, "/v1/auth/login", json: ["username": "secret_alice", "password": .string(wrongPassword)])
                #expect(wrong.status == 401)
                let tampered = try await api.call(.get, "/v1/me", token: second.access + "x")
                #expect(tampered.status == 401)
                let adminTokens = try await secrets.login(api, admin)
                _ = try await api.json(.get, "/admin/v1/cluster", token: adminTokens.access)
                return Session(userID: "", username: "secret_alice", token: second.access)
            }

            // Through the standby: logins served there, orders and admin calls forwarded to a, a relayed stream.
            let viaB = try await ProcessRestartTests.with(b) { api in try await secrets.login(api, alice) }
            let bSession = Session(userID: "", username: session.username, token: viaB.access)
            try await ClusterProcessTests.whenServing(b, bSession) { api in
                _ = try await api.placed(bSession, order("buy", "0.002", at: "99"))
                _ = try await api.json(.get, "/v1/account/balances", token: viaB.access)
                let adminTokens = try await secrets.login(api, admin)
                let cluster = try await api.json(.get, "/admin/v1/cluster", token: adminTokens.access)
                let serving = cluster["members"]?.arrayValue?.first { $0["status"] == "serving" }?["id"]
                #expect(serving == "secrets-a", "b forwarded to the active node a: \(cluster)")
                let status = try await api.h2.streamingRequest(
                    method: .get, path: "/v1/stream?channels=orders", headers: [.authorization: "Bearer \(viaB.access)"]
                ) { head, _ in head.status.code }
                #expect(status == 200)
                let last = try await secrets.refresh(api, viaB.refresh)
                _ = try await api.call(.post, "/v1/auth/logout", token: last.access)
                let revoked = try await api.call(
                    .post, "/v1/auth/refresh", json: ["refresh_token": .string(last.refresh)])
                #expect(revoked.status == 401, "logout revokes the refresh tokens")
            }
            #expect(secrets.count >= 10, "secrets to look for: \(secrets.names)")
            #expect(await b.terminate(within: .seconds(20)) == 0)
            #expect(await a.terminate(within: .seconds(20)) == 0)

            for (node, expected) in [
                (a, ["store: PostgreSQL", "peer server listening", "user registered", "node stopped"]),
                (b, ["store: PostgreSQL", "peer server listening", "node stopped"]),
            ] {
                let text = (try? String(contentsOfFile: node.log, encoding: .utf8)) ?? ""
                let lines = LogLines.read(node.log)
                #expect(lines.contains { $0.level == "info" }, "\(node.log) has no info line: logging is off")
                for message in expected {
                    #expect(lines.contains { $0.message == message }, "\(node.log) lacks \"\(message)\"")
                }
                // The scan finds what is there: the node's id, made a "secret" for the control.
                var control = Secrets()
                control.add("node id", node === a ? "secrets-a" : "secrets-b")
                #expect(!control.leaks(in: text).isEmpty, "the scan does not find the node id in \(node.log)")
                for leak in secrets.leaks(in: text) {
                    Issue.record("\(node.log) carries the \(leak.name): \(leak.line)")
                }
            }
        }
    }
}

/// The secrets of a test, and where they show in a text.
struct Secrets: Sendable {
    private(set) var values: [(name: String, value: String)] = []
    var count: Int { values.count }
    var names: [String] { values.map(\.name) }

    @discardableResult
    mutating func add(_ name: String, _ value: String) -> String {
        values.append((name, value))
        return value
    }

    /// Logs in with `credentials` and remembers the tokens.
    mutating func login(_ api: NodeClient, _ credentials: JSONValue) async throws -> (access: String, refresh: String) {
        tokens(try await api.json(.post, "/v1/auth/login", json: credentials), "login")
    }

    /// Refreshes with `token` and remembers the new tokens.
    mutating func refresh(_ api: NodeClient, _ token: String) async throws -> (access: String, refresh: String) {
        tokens(try await api.json(.post, "/v1/auth/refresh", json: ["refresh_token": .string(token)]), "refresh")
    }

    private mutating func tokens(_ pair: JSONValue, _ origin: String) -> (access: String, refresh: String) {
        let access = pair["access_token"]?.stringValue ?? ""
        let refresh = pair["refresh_token"]?.stringValue ?? ""
        #expect(!access.isEmpty && !refresh.isEmpty, "\(origin): \(pair)")
        add("access token (\(origin))", access)
        // The signature alone is enough to forge nothing, but it is the token's secret part: never logged either.
        if let signature = access.split(separator: ".").last, signature.count >= 32 {
            add("access token signature (\(origin))", String(signature))
        }
        add("refresh token (\(origin))", refresh)
        return (access, refresh)
    }

    /// Each line of `text` holding a secret, as written, JSON-escaped or percent-encoded.
    func leaks(in text: String) -> [(name: String, line: String)] {
        var found: [(String, String)] = []
        for line in text.split(separator: "\n") {
            for (name, value) in values where !value.isEmpty {
                let forms = [
                    value, value.replacingOccurrences(of: "/", with: "\\/"),
                    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value,
                ]
                if forms.contains(where: { line.contains($0) }) { found.append((name, String(line))) }
            }
        }
        return found
    }
}

/// A node's log, one JSON object a line (`JSONLogHandler`); lines that are not JSON are kept with no fields.
struct LogLines {
    struct Line {
        var fields: [String: String]
        var message: String? { fields["msg"] }
        var level: String? { fields["level"] }
    }

    static func read(_ path: String) -> [Line] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let object = (try? JSONParser().parse(Array(line.utf8)))?.objectValue
            var fields: [String: String] = [:]
            for member in object?.members ?? [] { fields[member.key] = member.value.stringValue }
            return Line(fields: fields)
        }
    }
}

/// A hand-made opening of a peer stream (`POST /bourse.peer/v1/stream`) and the status a node must answer.
struct PeerProbe: Sendable {
    var name: String
    var method: HTTPRequest.Method = .post
    var path = "/bourse.peer/v1/stream"
    var credentials: [String: String] = [:]
    var expected: Int

    static var all: [PeerProbe] {
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let signed: [String: String] = [
            "bourse-node": "intruder", "bourse-timestamp": now, "bourse-nonce": nonce,
            "bourse-signature": String(repeating: "0", count: 64),
        ]
        return [
            PeerProbe(name: "no credentials", expected: 401),
            PeerProbe(name: "a forged signature", credentials: signed, expected: 401),
            PeerProbe(
                name: "a forged signature claiming a member's id",
                credentials: signed.merging(["bourse-node": "peer-a"]) { $1 }, expected: 401),
            PeerProbe(
                name: "a signature but no nonce", credentials: signed.filter { $0.key != "bourse-nonce" }, expected: 401
            ),
            PeerProbe(name: "another path", path: "/bourse.peer/v2/stream", credentials: signed, expected: 404),
            PeerProbe(name: "GET", method: .get, credentials: signed, expected: 405),
        ]
    }

    /// Opens the stream on 127.0.0.1:`port` over h2c and returns the answer's status.
    /// The status the peer port answers. A connection that fails before an answer (CI once saw `I/O on closed
    /// channel` with the machine loaded by the other suites) is opened again, twice at most: the status is what
    /// is under test, and every answer is still compared.
    func send(port: Int) async throws -> Int {
        var headers: HTTPFields = [.contentType: "application/x-bourse-peer-v1"]
        for (name, value) in credentials { headers[HTTPField.Name(name)!] = value }
        for attempt in 1... {
            do {
                return try await H2Client.withConnection(host: "127.0.0.1", port: port) { client in
                    Int(try await client.request(method: method, path: path, headers: headers).status.code)
                }
            } catch is ChannelError where attempt < 3 {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        preconditionFailure("unreachable")
    }
}
