import Actors
import Logging
import Trading

/// What the route handlers share: the exchange, authentication, the clock and the settings.
struct APIServices: Sendable {
    let configuration: APIConfiguration
    let exchange: any ExchangeService
    /// The admin operations (`nil`: the admin routes answer 503).
    let admin: (any ExchangeAdministration)?
    let auth: AuthService
    let tokens: TokenAuthority
    let clock: APIClock
    let metrics: @Sendable () -> String
    let loginLimiter: TokenBucketLimiter
    /// Sends requests to the node that serves the exchange (`nil`: this node always serves).
    let forwarder: (any RequestForwarder)?
    let logger: Logger

    var bodyLimit: Int { configuration.limits.bodyBytes }
    var maxJSONDepth: Int { configuration.maxJSONDepth }

    /// Every market's spec by symbol, for rendering lists that span markets.
    func marketSpecs() async -> [String: MarketSpec] {
        Dictionary(await exchange.markets().map { ($0.spec.symbol, $0.spec) }, uniquingKeysWith: { first, _ in first })
    }

    /// The spec of `symbol`, from `specs` when there, else from the exchange.
    func spec(_ symbol: String, in specs: [String: MarketSpec]) async throws -> MarketSpec {
        if let spec = specs[symbol] { return spec }
        return try await exchange.market(symbol).spec
    }
}
