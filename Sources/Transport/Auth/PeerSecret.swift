import Crypto

/// The cluster secret that every node shares; it signs the opening of each peer stream.
///
/// Its description is redacted, so it cannot end up in a log by accident.
public struct PeerSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let key: SymmetricKey

    /// Creates a secret from its UTF-8 text (cluster.yaml's `cluster_secret`).
    public init(_ text: String) {
        self.key = SymmetricKey(data: Array(text.utf8))
    }

    /// Creates a secret from raw bytes.
    public init(bytes: [UInt8]) {
        self.key = SymmetricKey(data: bytes)
    }

    public var description: String { "PeerSecret(redacted)" }
    public var debugDescription: String { description }
}
