extension PeerServer {
    /// Where and how a ``PeerServer`` listens.
    public struct Configuration: Sendable {
        /// Host to bind (`0.0.0.0` for all interfaces, `127.0.0.1` in tests).
        public var host: String
        /// Port to bind; 0 picks a free one (see ``PeerServer/listeningAddress``).
        public var port: Int
        /// This node: the sender written on replies.
        public var identity: PeerIdentity
        /// The cluster secret that stream openings must be signed with.
        public var secret: PeerSecret
        /// Upper bound on a received frame body, in bytes.
        public var maximumFrameBytes: Int
        /// Batches of one stream handled at the same time; beyond it the server stops reading that stream
        /// (HTTP/2 flow control then holds the sender back).
        public var maximumConcurrentBatchesPerStream: Int
        /// How far a stream opening's timestamp may be from this node's clock.
        public var maximumClockSkew: Duration
        /// How long a graceful shutdown waits for in-flight batches before closing connections.
        public var gracefulShutdownTimeout: Duration
        /// Idle time after which the server pings a connection (closing it if the ping goes unanswered);
        /// `nil` disables keepalive.
        public var keepaliveInterval: Duration?
        /// Request kinds answered on the connection's event loop as soon as they are read, ahead of the
        /// batches that wait for the global pool (and of the concurrency limit): liveness probes, so that a
        /// node whose pool is busy (a takeover replaying a thousand shards on two cores) still answers them and
        /// is not voted dead for being busy. Their handler must answer at once, without blocking or waiting.
        public var inlineKinds: Set<UInt16>

        /// Creates a configuration.
        public init(
            host: String, port: Int, identity: PeerIdentity, secret: PeerSecret,
            maximumFrameBytes: Int = PeerFrameFormat.defaultMaximumFrameBytes,
            maximumConcurrentBatchesPerStream: Int = 32, maximumClockSkew: Duration = .seconds(60),
            gracefulShutdownTimeout: Duration = .seconds(10), keepaliveInterval: Duration? = .seconds(30),
            inlineKinds: Set<UInt16> = []
        ) {
            self.host = host
            self.port = port
            self.identity = identity
            self.secret = secret
            self.maximumFrameBytes = maximumFrameBytes
            self.maximumConcurrentBatchesPerStream = maximumConcurrentBatchesPerStream
            self.maximumClockSkew = maximumClockSkew
            self.gracefulShutdownTimeout = gracefulShutdownTimeout
            self.keepaliveInterval = keepaliveInterval
            self.inlineKinds = inlineKinds
        }
    }

    /// Counters, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Streams admitted after authentication.
        public var streamsAccepted = 0
        /// Streams refused (wrong path, bad or missing signature, stale timestamp, replayed nonce).
        public var streamsRefused = 0
        /// Frames received on admitted streams.
        public var framesReceived = 0
        /// Requests received on admitted streams.
        public var requestsReceived = 0
        /// Frames of replies written.
        public var framesSent = 0
        /// Replies written.
        public var repliesSent = 0
    }
}
