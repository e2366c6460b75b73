import Metrics

/// Metrics the stores record themselves (swift-metrics; the node's `/metrics` shows them).
public enum StorageMetrics {
    /// Writes refused because their epoch is not the shard's current lease epoch: one per refused journal
    /// append (a call of `append`, whatever its number of records) and one per refused snapshot save. The
    /// refusal is decided in the same statement (PostgreSQL) or transaction (SQLite) as the write.
    public static let staleEpochRefusals = Counter(label: "bourse_journal_stale_epoch_refusals")

    /// Read-model rows that were waiting in the `ProjectionWriter` when it last took a transaction's worth:
    /// how far the read models run behind the journal (a few milliseconds' rows when it keeps up).
    public static let projectionPendingRows = Gauge(label: "bourse_projection_pending_rows")

    /// Read-model rows committed by the `ProjectionWriter`.
    public static let projectionRowsWritten = Counter(label: "bourse_projection_rows_written")

    /// Read-model transactions that failed (their rows are retried).
    public static let projectionFailures = Counter(label: "bourse_projection_failures")

    /// Creates the series so that `/metrics` shows them at zero before anything was refused. Call after the
    /// metrics backend is bootstrapped (the stores call it when they start running).
    public static func registerSeries() {
        _ = staleEpochRefusals
        projectionPendingRows.record(0)
        _ = projectionRowsWritten
        _ = projectionFailures
    }
}
