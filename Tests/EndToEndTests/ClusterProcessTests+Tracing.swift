import Foundation
import HTTPTypes
import TestSupport
import Testing

extension ClusterProcessTests {
    /// Two nodes with `BOURSE_TRACING=log`: a request sent to the standby is forwarded to the active node, and
    /// both nodes' JSON logs tie it together — the same request id, and spans of one trace, the active node's
    /// server span a child of the standby's forwarding span.
    @Test(.timeLimit(.minutes(3)))
    func aForwardedRequestKeepsItsRequestIDAndTraceOnBothNodes() async throws {
        try await ProcessRestartTests.withNodes(.postgres, timeout: .seconds(150)) { storage, nodes in
            let storage = try AdminCLITests.withAdminConfiguration(storage)
            let environment = [
                "BOURSE_CLUSTER_SECRET": Self.secret, "BOURSE_TRACING": "log", "BOURSE_ROUTING": "active_standby",
            ]
            func start(_ id: String) async throws -> NodeProcess {
                nodes.track(
                    try await NodeProcess.start(
                        storage, name: id, nodeID: id,
                        arguments: ["--peer-listen", "127.0.0.1:\(try NodeProcess.freePort())"],
                        environment: environment))
            }
            let active = try await start("node-a")
            let standby = try await start("node-b")
            let user = try await ProcessRestartTests.with(standby) { api in
                try await NodeLoad.users(api, count: 1, prefix: "traced")[0]
            }

            let requestID = "trace-check-\(UInt32.random(in: 1...UInt32.max))"
            let response = try await Self.whenServing(standby, user) { api in
                try await api.call(
                    .get, "/v1/account/balances", token: user.token, headers: [.init("X-Request-Id")!: requestID])
            }
            #expect(response.status == 200)
            #expect(response.headers[.init("X-Request-Id")!] == requestID)
            // A request without an id gets one.
            let drawn = try await ProcessRestartTests.with(standby) { api in
                try await api.call(.get, "/v1/account/balances", token: user.token).headers[.init("X-Request-Id")!]
            }
            #expect(drawn?.count == 32)

            // Spans are logged when they end, just after the response: look for a few seconds.
            var edge: [[String: String]] = []
            var target: [[String: String]] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                edge = Self.spans(in: standby, requestID: requestID)
                target = Self.spans(in: active, requestID: requestID)
                if edge.count >= 2, !target.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let edgeServer = try #require(
                edge.first { $0["kind"] == "server" }, "standby spans: \(edge)\n\(standby.tail())")
            let forward = try #require(edge.first { $0["kind"] == "client" }, "standby spans: \(edge)")
            let targetServer = try #require(
                target.first { $0["kind"] == "server" }, "active spans: \(target)\n\(active.tail())")
            #expect(edgeServer["node"] == "node-b" && forward["node"] == "node-b" && targetServer["node"] == "node-a")
            #expect(forward["span"] == "forward GET")
            #expect(forward["parent_span_id"] == edgeServer["span_id"])
            #expect(forward["trace_id"] == edgeServer["trace_id"])
            #expect(targetServer["trace_id"] == edgeServer["trace_id"])
            #expect(targetServer["parent_span_id"] == forward["span_id"])
            #expect(targetServer["span"] == "/v1/account/balances" && edgeServer["span"] == "/v1/account/balances")
            #expect(targetServer["attr.http.response.status_code"] == "200")
            // A verify asked through the standby runs on the active node, which counts it.
            let admin = try await ProcessRestartTests.with(standby) { api in
                try await api.login("admin", password: AdminCLITests.password)
            }
            let verify = try await ProcessRestartTests.with(standby) { api in
                try await api.call(.get, "/admin/v1/verify", token: admin.token)
            }
            #expect(verify.status == 200, "\(verify.text)")
            let metrics = try await Self.scrape(active)
            #expect(metrics.value("bourse_verify_runs", ["outcome": "clean"]) == 1, "\(metrics)")
            #expect((metrics.value("bourse_verify_runs", ["outcome": "violations"]) ?? 0) == 0)
            #expect(metrics.value("bourse_verify_violations") == 0)

            // Every line either node wrote is JSON naming its node.
            for node in [active, standby] {
                let lines = Self.logLines(of: node)
                #expect(!lines.isEmpty)
                let unnamed = lines.filter { $0["node"] == nil }
                #expect(unnamed.isEmpty, "log lines without a node: \(unnamed.prefix(3))")
            }
        }
    }

    /// Every JSON object line of `node`'s log (other lines are skipped), its values as text.
    static func logLines(of node: NodeProcess) -> [[String: String]] {
        let text = (try? String(contentsOfFile: node.log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let data = line.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return nil }
            return object.mapValues { "\($0)" }
        }
    }

    /// The span lines of `node`'s log for the request `requestID`.
    static func spans(in node: NodeProcess, requestID: String) -> [[String: String]] {
        logLines(of: node).filter { $0["msg"] == "span" && $0["request_id"] == requestID }
    }
}
