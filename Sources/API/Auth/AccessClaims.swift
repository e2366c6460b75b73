import JWTKit

/// The claims of an access token. Times are whole seconds since 1970; expiry is checked by
/// `TokenAuthority` against its injected clock, not here.
struct AccessClaims: JWTPayload, Equatable {
    /// The user id, as a decimal string.
    var sub: String
    /// `user` or `admin`.
    var role: String
    var iat: Int64
    var exp: Int64

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
