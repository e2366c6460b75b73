/// Settings of the client API server (cluster.yaml `node.listen` and `limits`, plus auth settings).
public struct APIConfiguration: Sendable {
    /// Certificate and key files for HTTP/2 over TLS with ALPN (`h2`, `http/1.1`).
    public struct TLSFiles: Sendable, Hashable {
        /// PEM certificate chain, leaf first.
        public var certificateChainPath: String
        /// PEM private key.
        public var privateKeyPath: String
        public init(certificateChainPath: String, privateKeyPath: String) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
        }
    }

    /// Request rate limits (token buckets) and the body size limit.
    public struct Limits: Sendable, Hashable {
        /// Sustained requests per second per user (authenticated) or per IP address (anonymous).
        public var requestsPerSecond: Double
        /// Bucket size: requests allowed in a burst.
        public var burst: Int
        /// Login attempts per minute per IP address.
        public var loginPerMinute: Int
        /// Largest request body in bytes; more is 413 PAYLOAD_TOO_LARGE.
        public var bodyBytes: Int
        /// Most buckets kept in memory per limiter; idle ones are evicted first.
        public var maxTrackedClients: Int

        public init(
            requestsPerSecond: Double = 100, burst: Int = 200, loginPerMinute: Int = 10, bodyBytes: Int = 65_536,
            maxTrackedClients: Int = 100_000
        ) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst
            self.loginPerMinute = loginPerMinute
            self.bodyBytes = bodyBytes
            self.maxTrackedClients = maxTrackedClients
        }
    }

    /// Address to listen on.
    public var host: String
    /// Port to listen on; 0 picks a free one (see `APIServer.makeApplication(onServerRunning:)`).
    public var port: Int
    /// TLS files; nil serves cleartext HTTP/1.1 and h2c on the same port.
    public var tls: TLSFiles?
    public var limits: Limits
    /// Lifetime of access tokens (`expires_in`).
    public var accessTokenTTLSeconds: Int64
    /// Lifetime of refresh tokens.
    public var refreshTokenTTLSeconds: Int64
    /// bcrypt cost for new password hashes: 12 in production; tests may lower it (min 4).
    public var bcryptCost: UInt8
    /// Interval of the `: heartbeat` comment on event streams.
    public var heartbeatInterval: Duration
    /// Deepest JSON nesting accepted in request bodies.
    public var maxJSONDepth: Int
    /// Whether every request gets a server span (`TracingMiddleware`, W3C `traceparent` taken from the
    /// request) from the tracer bootstrapped in `InstrumentationSystem`. Off, requests skip the middleware.
    public var tracing: Bool

    public init(
        host: String = "127.0.0.1", port: Int = 8080, tls: TLSFiles? = nil, limits: Limits = Limits(),
        accessTokenTTLSeconds: Int64 = 900, refreshTokenTTLSeconds: Int64 = 30 * 86_400, bcryptCost: UInt8 = 12,
        heartbeatInterval: Duration = .seconds(15), maxJSONDepth: Int = 64, tracing: Bool = false
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.limits = limits
        self.accessTokenTTLSeconds = accessTokenTTLSeconds
        self.refreshTokenTTLSeconds = refreshTokenTTLSeconds
        self.bcryptCost = bcryptCost
        self.heartbeatInterval = heartbeatInterval
        self.maxJSONDepth = maxJSONDepth
        self.tracing = tracing
    }
}
