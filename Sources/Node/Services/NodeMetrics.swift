import Actors
import Metrics
import Prometheus
import Storage

/// The Prometheus text of `GET /metrics`: everything recorded through swift-metrics (requests by route
/// and status, order latency, journal batches and commit latency) plus the store's commit counters.
struct NodeMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let store: any DurableStore

    /// Installs the Prometheus backend for swift-metrics; call once, before anything records.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    func prometheusText() -> String {
        let statistics = store.commitStatistics
        return registry.emitToString() + """
            # HELP bourse_journal_batches_total Journal batches committed (one database round trip each).
            # TYPE bourse_journal_batches_total counter
            bourse_journal_batches_total \(statistics.batches)
            # HELP bourse_journal_records_total Journal records in committed batches.
            # TYPE bourse_journal_records_total counter
            bourse_journal_records_total \(statistics.records)
            # HELP bourse_journal_largest_batch Most records one batch carried.
            # TYPE bourse_journal_largest_batch gauge
            bourse_journal_largest_batch \(statistics.largestBatch)

            """
    }
}

extension NodeMetrics {
    /// Renewals of every lease the active node holds, or of a node routing by shard's (one statement each
    /// round), by outcome.
    static let leaseRenewalsOK = Counter(label: "bourse_lease_renewals", dimensions: [("outcome", "ok")])
    static let leaseRenewalsFailed = Counter(label: "bourse_lease_renewals", dimensions: [("outcome", "failed")])
    /// Times this node became the active node (took `cluster/active` and every shard).
    static let takeovers = Counter(label: "bourse_takeovers")
    /// Times this node handed every shard off (SIGTERM or a drain).
    static let handoffs = Counter(label: "bourse_handoffs")
    /// Leases this node holds: `cluster/active` plus every account shard and market while active, else 0;
    /// routing by shard, the shards it serves.
    static let shardsOwned = Gauge(label: "bourse_shards_owned")
    /// The version of the membership table this node last read.
    static let membershipVersion = Gauge(label: "bourse_membership_version")
    /// The version of the shard assignment (the ring) stored with that membership version; 0 before one.
    static let ringVersion = Gauge(label: "bourse_ring_version")

    /// Creates the cluster series so that `/metrics` shows them at zero before anything happened.
    static func registerClusterSeries() {
        _ = (leaseRenewalsOK, leaseRenewalsFailed, takeovers, handoffs, membershipVersion, ringVersion)
        shardsOwned.record(0)
        _ = PeerMessageMetrics.all
    }
}
