import Crypto

/// Opaque refresh tokens: 32 random bytes in base64url. Only their SHA-256 (hex) is stored.
enum RefreshToken {
    /// Longest text taken for a refresh token; anything longer is not one of ours.
    static let maxLength = 128

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(bytes)
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
