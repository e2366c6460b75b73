import Trading

/// The API module: filled by later issues (see docs/architecture.md).
public enum APIModule {
    public static let name = "API"
}
