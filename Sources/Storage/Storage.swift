import Trading

/// The Storage module: filled by later issues (see docs/architecture.md).
public enum StorageModule {
    public static let name = "Storage"
}
