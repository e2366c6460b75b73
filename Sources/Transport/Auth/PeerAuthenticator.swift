import Crypto

/// Signs and checks stream-opening credentials with the cluster secret.
///
/// Pure apart from the random nonce: the time is a parameter, so tests need no clock. Signatures are compared
/// in constant time (`HMAC.isValidAuthenticationCode`).
struct PeerAuthenticator: Sendable {
    /// Why a stream was refused; safe to log (carries no header values).
    enum Refusal: String, Sendable, Error {
        case missingCredentials = "missing credentials"
        case invalidNodeID = "invalid node id"
        case invalidNonce = "invalid nonce"
        case invalidSignature = "invalid signature"
        case staleTimestamp = "timestamp outside the allowed skew"
        case replayedNonce = "nonce already used"
    }

    let secret: PeerSecret
    /// How far the signed timestamp may be from the receiver's clock, in milliseconds.
    var maximumSkewMilliseconds: Int64 = 60_000

    /// Credentials for `nodeID` at `timestamp` with a fresh random nonce.
    func credentials(nodeID: String, timestamp: Int64) -> PeerCredentials {
        var generator = SystemRandomNumberGenerator()
        let nonce = Hex.encode((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return sign(nodeID: nodeID, timestamp: timestamp, nonce: nonce)
    }

    /// Credentials with the given fields and a correct signature.
    func sign(nodeID: String, timestamp: Int64, nonce: String) -> PeerCredentials {
        var credentials = PeerCredentials(nodeID: nodeID, timestamp: timestamp, nonce: nonce, signature: "")
        let code = HMAC<SHA256>.authenticationCode(for: credentials.signedBytes, using: secret.key)
        credentials.signature = Hex.encode(Array(code))
        return credentials
    }

    /// Checks `credentials` against the secret and the receiver's time.
    /// - Returns: The authenticated node id.
    func verify(_ credentials: PeerCredentials?, now: Int64) -> Result<String, Refusal> {
        guard let credentials else { return .failure(.missingCredentials) }
        guard PeerIdentity.isValidNodeID(credentials.nodeID) else { return .failure(.invalidNodeID) }
        guard (16...64).contains(credentials.nonce.utf8.count), Hex.decode(credentials.nonce) != nil else {
            return .failure(.invalidNonce)
        }
        guard let signature = Hex.decode(credentials.signature), signature.count == SHA256.byteCount,
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: credentials.signedBytes, using: secret.key)
        else { return .failure(.invalidSignature) }
        let skew = now.subtractingReportingOverflow(credentials.timestamp)
        guard !skew.overflow, abs(skew.partialValue) <= maximumSkewMilliseconds else {
            return .failure(.staleTimestamp)
        }
        return .success(credentials.nodeID)
    }
}
