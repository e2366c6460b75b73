import Trading

/// The Actors module: filled by later issues (see docs/architecture.md).
public enum ActorsModule {
    public static let name = "Actors"
}
