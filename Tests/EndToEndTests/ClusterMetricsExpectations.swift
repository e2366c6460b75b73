import Testing

/// The Prometheus text a node answers on `GET /metrics`, parsed into samples (comments skipped).
struct MetricsScrape: Sendable, CustomStringConvertible {
    struct Sample: Sendable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let text: String
    let samples: [Sample]

    init(_ text: String) {
        self.text = text
        samples = text.split(separator: "\n").compactMap { line in
            line.hasPrefix("#") ? nil : Self.sample(line)
        }
    }

    var description: String { text }

    /// The sum of the samples named `name` whose labels include `labels`; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    /// `name{label="value",…} 12.5` (label values may hold spaces, commas and escaped quotes).
    private static func sample(_ line: Substring) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
            return nil
        }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else {
            return Sample(name: String(series), labels: [:], value: value)
        }
        var labels: [String: String] = [:]
        var key = ""
        var text = ""
        var quoted = false
        var escaped = false
        for character in series[series.index(after: brace)...] {
            if quoted {
                if escaped {
                    text.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    quoted = false
                    labels[key] = text
                    key = ""
                    text = ""
                } else {
                    text.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character != "=", character != ",", character != "}" {
                key.append(character)
            }
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }
}

extension ClusterProcessTests {
    /// Leases the active node holds with the node's defaults: `cluster/active`, 1024 account shards and the
    /// three demo markets.
    static let activeLeases = 1 + 1_024 + 3

    /// Scrapes `/metrics` on the node.
    static func scrape(_ node: NodeProcess) async throws -> MetricsScrape {
        try await ProcessRestartTests.with(node) { api in
            let response = try await api.call(.get, "/metrics")
            #expect(response.status == 200)
            return MetricsScrape(response.text)
        }
    }

    /// The series of issue 6's observability item, on the active node and on a standby through which clients
    /// placed `ordersPlaced` orders (or more, forwarded to the active); at least a second after the cluster started.
    static func expectClusterMetrics(active: NodeProcess, standby: NodeProcess, ordersPlaced: Int) async throws {
        let metrics = try await scrape(active)
        #expect(try #require(metrics.value("bourse_orders_placed")) >= Double(ordersPlaced), "\(metrics)")
        #expect(try #require(metrics.value("bourse_order_latency_count")) >= Double(ordersPlaced))
        #expect(try #require(metrics.value("bourse_order_reserve_latency_count")) >= Double(ordersPlaced))
        #expect(try #require(metrics.value("bourse_order_book_latency_count")) >= Double(ordersPlaced))
        #expect(try #require(metrics.value("bourse_match_latency_count")) >= Double(ordersPlaced))
        // One per batch of a book's journal: at least one batch booked the orders.
        #expect(try #require(metrics.value("bourse_book_reservation_wait_count")) > 0)
        #expect(try #require(metrics.value("bourse_match_latency_bucket", ["le": "+Inf"])) >= Double(ordersPlaced))
        #expect(try #require(metrics.value("bourse_settle_latency_count")) > 0)
        #expect(try #require(metrics.value("bourse_journal_commit_latency_count")) > 0)
        #expect(try #require(metrics.value("bourse_journal_batch_records_count")) > 0)
        #expect(try #require(metrics.value("bourse_journal_batches_total")) > 0)
        #expect(metrics.value("bourse_projection_rows_written") != nil)
        #expect(metrics.value("bourse_projection_pending_rows") != nil)
        #expect(metrics.value("bourse_projection_failures") == 0)
        #expect(try #require(metrics.value("bourse_lease_renewals", ["outcome": "ok"])) > 0)
        #expect(metrics.value("bourse_lease_renewals", ["outcome": "failed"]) != nil)
        #expect(metrics.value("bourse_takeovers") == 1)
        #expect(metrics.value("bourse_handoffs") == 0)
        #expect(metrics.value("bourse_shards_owned") == Double(activeLeases))
        #expect(try #require(metrics.value("bourse_membership_version")) >= 1)
        #expect(metrics.value("bourse_ring_version") != nil)
        #expect(try #require(metrics.value("bourse_peer_messages_received", ["kind": "ping"])) > 0)
        #expect(try #require(metrics.value("bourse_peer_messages_received", ["kind": "forward"])) > 0)
        #expect(metrics.value("bourse_peer_message_errors", ["kind": "forward", "direction": "received"]) == 0)
        #expect(try #require(metrics.value("hb_requests", ["http_response_status_code": "200"])) > 0)

        let forwarded = try await scrape(standby)
        #expect(forwarded.value("bourse_shards_owned") == 0, "\(forwarded)")
        #expect(forwarded.value("bourse_takeovers") == 0)
        #expect(try #require(forwarded.value("bourse_peer_messages_sent", ["kind": "ping"])) > 0)
        #expect(try #require(forwarded.value("bourse_peer_messages_sent", ["kind": "forward"])) > 0)
        #expect(forwarded.value("bourse_peer_message_errors", ["kind": "forward", "direction": "sent"]) == 0)
        #expect(try #require(forwarded.value("bourse_membership_version")) >= 1)
        // HTTP status by route is counted where the client's request arrived.
        #expect(
            try #require(forwarded.value("hb_requests", ["http_route": "/v1/orders", "http_request_method": "POST"]))
                >= Double(ordersPlaced))
    }
}
