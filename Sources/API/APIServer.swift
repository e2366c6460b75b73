import Actors
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import Storage
import Trading

/// The client API (api.md): HTTP/1.1 and HTTP/2 (h2c, or TLS with ALPN) on one port.
///
/// The node builds one and runs `makeApplication()` in its `ServiceGroup` (an `Application` is a
/// `Service`; SIGTERM shuts it down gracefully). Before serving, the application loads — or makes and
/// stores — the shared JWT signing key; call `ensureAdminUser(password:)` once at start.
///
/// ```swift
/// let api = APIServer(configuration: .init(host: "0.0.0.0", port: 8080), exchange: exchange,
///                     users: store, keys: store, metrics: { registry.prometheusText() }, logger: logger)
/// try await api.ensureAdminUser(password: adminPassword)
/// let serviceGroup = ServiceGroup(services: [..., try api.makeApplication()], ...)
/// ```
public struct APIServer: Sendable {
    public let configuration: APIConfiguration
    let services: APIServices
    let keys: any JournalStore
    let requestLimiter: TokenBucketLimiter

    /// - Parameters:
    ///   - configuration: listen address, TLS, limits, token lifetimes.
    ///   - exchange: what the routes call.
    ///   - admin: what the admin routes call; by default the exchange, when it implements them.
    ///   - users: users and refresh tokens.
    ///   - keys: where the JWT signing key is shared (`putIfAbsent`).
    ///   - metrics: the Prometheus text for `GET /metrics`.
    ///   - forwarder: on a node that may stand by, what sends client requests to the node serving the exchange
    ///     (see `ForwardingMiddleware`); `nil`: this node always serves.
    ///   - clock: wall-clock time for tokens and rate limits (tests inject one).
    ///   - logger: the API's logger; it never receives passwords or tokens.
    public init(
        configuration: APIConfiguration, exchange: any ExchangeService, admin: (any ExchangeAdministration)? = nil,
        users: any UserStore, keys: any JournalStore, metrics: @escaping @Sendable () -> String,
        forwarder: (any RequestForwarder)? = nil, clock: APIClock = .system, logger: Logger
    ) {
        self.configuration = configuration
        self.keys = keys
        let tokens = TokenAuthority()
        let auth = AuthService(
            users: users, hasher: PasswordHasher(cost: configuration.bcryptCost), tokens: tokens, clock: clock,
            accessTokenTTLSeconds: configuration.accessTokenTTLSeconds,
            refreshTokenTTLSeconds: configuration.refreshTokenTTLSeconds, logger: logger)
        let limits = configuration.limits
        let loginLimiter = TokenBucketLimiter(
            ratePerSecond: Double(max(1, limits.loginPerMinute)) / 60, burst: max(1, limits.loginPerMinute),
            maxKeys: limits.maxTrackedClients, clock: clock)
        self.requestLimiter = TokenBucketLimiter(
            ratePerSecond: limits.requestsPerSecond, burst: max(1, limits.burst), maxKeys: limits.maxTrackedClients,
            clock: clock)
        self.services = APIServices(
            configuration: configuration, exchange: exchange, admin: admin ?? (exchange as? any ExchangeAdministration),
            auth: auth, tokens: tokens, clock: clock,
            metrics: metrics, loginLimiter: loginLimiter, forwarder: forwarder, logger: logger)
    }

    /// Loads (or creates and stores) the JWT signing key. `makeApplication()` does it before the server
    /// starts; calling it earlier is harmless.
    public func prepare() async throws {
        try await services.tokens.load(from: keys, logger: services.logger)
    }

    /// Creates the user `admin` with role `admin` unless it exists (first start). Returns true when
    /// it was created.
    @discardableResult
    public func ensureAdminUser(password: String) async throws -> Bool {
        try await services.auth.ensureAdminUser(password: password)
    }

    /// The HTTP application to run as a service.
    /// - Parameter onServerRunning: called with the listening channel (its `localAddress` tells the
    ///   port when `configuration.port` is 0).
    /// - Throws: when the TLS files cannot be read.
    public func makeApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        throws -> some ApplicationProtocol
    {
        try makeApplication(routeTable: makeRouteTable(), onServerRunning: onServerRunning)
    }

    /// The application serving `routeTable` (tests add routes to it first).
    func makeApplication(
        routeTable table: APIRouteTable, onServerRunning: @escaping @Sendable (any Channel) async -> Void
    ) throws -> Application<RouterResponder<APIRequestContext>> {
        var application = Application(
            router: table.router,
            server: try makeServerBuilder(http2Service: makeHTTP2Service(router: table.router)),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "bourse"),
            onServerRunning: onServerRunning,
            logger: services.logger)
        let services = self.services
        let keys = self.keys
        application.beforeServerStarts { try await services.tokens.load(from: keys, logger: services.logger) }
        return application
    }

    /// Every route the API serves.
    public var routes: [APIRoute] { makeRouteTable().routes }

    /// The routes and middleware.
    /// - Parameter forwarding: whether requests go to the node serving the exchange when this one does not
    ///   (with a forwarder); false for requests that another node forwarded here.
    func makeRouteTable(forwarding: Bool = true) -> APIRouteTable {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: HeadRequestMiddleware())
        // Outermost when tracing: the server span of every request (its parent taken from `traceparent`), which
        // records the request's id from the response's `X-Request-Id`.
        if configuration.tracing {
            router.add(middleware: TracingMiddleware<APIRequestContext>(recordingHeaders: [.requestID]))
        }
        // Every response, errors included, carries the request's id, and so do its log lines.
        router.add(middleware: RequestIDMiddleware())
        // Sees the final status of every request (errors included), by route pattern.
        router.add(middleware: RequestMetricsMiddleware<APIRequestContext>())
        router.add(middleware: ErrorMiddleware<APIRequestContext>())
        if forwarding, let forwarder = services.forwarder {
            router.add(middleware: ForwardingMiddleware(forwarder: forwarder, bodyLimit: services.bodyLimit))
        }
        router.add(middleware: AuthenticationMiddleware(tokens: services.tokens, clock: services.clock))
        router.add(middleware: RateLimitMiddleware(limiter: requestLimiter))
        router.add(middleware: ReadinessMiddleware(exchange: services.exchange))
        let table = APIRouteTable(router: router)
        AuthRoutes(services: services).register(on: table)
        MarketRoutes(services: services).register(on: table)
        AccountRoutes(services: services).register(on: table)
        OrderRoutes(services: services).register(on: table)
        PortfolioRoutes(services: services).register(on: table)
        StrategyRoutes(services: services).register(on: table)
        BacktestRoutes(services: services).register(on: table)
        StreamRoutes(services: services).register(on: table)
        OperationsRoutes(services: services).register(on: table)
        AdminRoutes(services: services).register(on: table)
        return table
    }

    /// Serves the HTTP/2 streams of cleartext connections (see `DirectHTTP2Channel`) with the same routes and
    /// middleware as `Application` does every other request, and the same last resort: an error no middleware
    /// turned into a response is a 500, and every response carries `Date` and `Server`.
    private func makeHTTP2Service(router: Router<APIRequestContext>) -> HTTP2StreamService {
        let responder = router.buildResponder()
        let logger = services.logger
        let dates = HTTPDateCache()
        return HTTP2StreamService(bodyLimit: services.bodyLimit) { request, channel in
            let context = APIRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch {
                logger.debug("unhandled error", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = dates.now
            response.headers[.server] = "bourse"
            return response
        }
    }

    private func makeServerBuilder(http2Service: HTTP2StreamService) throws -> HTTPServerBuilder {
        let connections = HTTP1AndH2CChannel.Configuration(
            http2: HTTP2ChannelConfiguration(gracefulCloseTimeout: Self.gracefulCloseTimeout))
        guard let files = configuration.tls else {
            return .http1AndH2C(http2Service: http2Service, configuration: connections)
        }
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChainPath).map {
            NIOSSLCertificateSource.certificate($0)
        }
        let key = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        return try .http1AndHTTP2(tlsConfiguration: tls, configuration: connections)
    }

    /// How long an HTTP/2 connection may keep streams open after a graceful shutdown's GOAWAY before it is
    /// closed: a client that stopped reading an event stream (its flow-control window full) would otherwise hold
    /// the stream's last write, and the node's stop, forever.
    static let gracefulCloseTimeout: Duration = .seconds(5)
}
