import Actors
import Storage

/// The Prometheus text of `GET /metrics`.
struct NodeMetrics: Sendable {
    let store: any DurableStore
    let exchange: Exchange

    func prometheusText() -> String {
        let statistics = store.commitStatistics
        return """
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
