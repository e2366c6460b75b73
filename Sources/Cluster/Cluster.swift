import Trading

/// The Cluster module: filled by later issues (see docs/architecture.md).
public enum ClusterModule {
    public static let name = "Cluster"
}
