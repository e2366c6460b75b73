extension PeerClient {
    /// Which peer a ``PeerClient`` talks to, and as whom.
    public struct Configuration: Sendable {
        /// The peer's host.
        public var host: String
        /// The peer's port.
        public var port: Int
        /// This node: the sender of every request and the signer of the stream opening.
        public var identity: PeerIdentity
        /// The cluster secret.
        public var secret: PeerSecret
        /// Upper bound on a frame body; must not exceed the peer's limit.
        public var maximumFrameBytes: Int
        /// How long a TCP connect may take.
        public var connectTimeout: Duration
        /// Delays between reconnection attempts.
        public var backoff: ReconnectBackoff

        /// Creates a configuration.
        public init(
            host: String, port: Int, identity: PeerIdentity, secret: PeerSecret,
            maximumFrameBytes: Int = PeerFrameFormat.defaultMaximumFrameBytes, connectTimeout: Duration = .seconds(2),
            backoff: ReconnectBackoff = ReconnectBackoff()
        ) {
            self.host = host
            self.port = port
            self.identity = identity
            self.secret = secret
            self.maximumFrameBytes = maximumFrameBytes
            self.connectTimeout = connectTimeout
            self.backoff = backoff
        }
    }

    /// Counters, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Streams opened and accepted by the peer.
        public var connections = 0
        /// Stream openings the peer refused (HTTP 401 or another status).
        public var refusals = 0
        /// Frames of requests written.
        public var framesSent = 0
        /// Requests written, counting every resend.
        public var requestsSent = 0
        /// Frames of replies received.
        public var framesReceived = 0
        /// Replies received.
        public var repliesReceived = 0
    }
}
