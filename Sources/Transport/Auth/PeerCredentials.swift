import NIOHPACK

/// The authentication headers of a stream-opening request.
///
/// `signature` is hex HMAC-SHA256(secret, "nodeID|timestamp|nonce"); `timestamp` is milliseconds since the Unix
/// epoch and `nonce` 32 hex digits. Never log `signature`.
struct PeerCredentials: Sendable, Equatable {
    static let nodeHeader = "bourse-node"
    static let timestampHeader = "bourse-timestamp"
    static let nonceHeader = "bourse-nonce"
    static let signatureHeader = "bourse-signature"

    var nodeID: String
    var timestamp: Int64
    var nonce: String
    var signature: String

    /// The bytes that the signature covers.
    var signedBytes: [UInt8] { Array("\(nodeID)|\(timestamp)|\(nonce)".utf8) }

    /// Reads the credentials from request headers; `nil` if any is missing or not well formed.
    init?(headers: HPACKHeaders) {
        guard let nodeID = headers.first(name: Self.nodeHeader),
            let timestampText = headers.first(name: Self.timestampHeader),
            let timestamp = Int64(timestampText),
            let nonce = headers.first(name: Self.nonceHeader),
            let signature = headers.first(name: Self.signatureHeader)
        else { return nil }
        self.init(nodeID: nodeID, timestamp: timestamp, nonce: nonce, signature: signature)
    }

    init(nodeID: String, timestamp: Int64, nonce: String, signature: String) {
        self.nodeID = nodeID
        self.timestamp = timestamp
        self.nonce = nonce
        self.signature = signature
    }

    /// Adds the credentials to request headers.
    func add(to headers: inout HPACKHeaders) {
        headers.add(name: Self.nodeHeader, value: nodeID)
        headers.add(name: Self.timestampHeader, value: String(timestamp))
        headers.add(name: Self.nonceHeader, value: nonce)
        headers.add(name: Self.signatureHeader, value: signature, indexing: .neverIndexed)
    }
}
