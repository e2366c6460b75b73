public import HummingbirdCore
public import HummingbirdHTTP2
public import Logging
public import NIOCore
import NIOHTTP2

/// Child channel serving HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one cleartext port.
///
/// The first bytes of each connection are compared with the HTTP/2 connection preface:
/// a match configures Hummingbird's ``HTTP2Channel`` pipeline, anything else its
/// ``HTTP1Channel`` pipeline. Both share the same responder, so the router, streaming
/// response bodies and request body limits behave the same on either protocol.
///
/// HTTP/1.1 `Upgrade: h2c` is not supported (RFC 9113 deprecates it); such requests are
/// simply answered over HTTP/1.1. For TLS with ALPN use Hummingbird's ``HTTP2UpgradeChannel``
/// (see ``HummingbirdCore/HTTPServerBuilder/http1AndHTTP2(tlsConfiguration:configuration:)``).
public struct HTTP1AndH2CChannel: HTTPChannelHandler {
    /// Configuration of a ``HTTP1AndH2CChannel``.
    public struct Configuration: Sendable {
        /// HTTP/2 connection settings. Its `streamConfiguration` applies to HTTP/2 streams
        /// and to HTTP/1.1 connections alike, as in Hummingbird's `HTTP2UpgradeChannel`.
        public var http2: HTTP2ChannelConfiguration
        /// Close a connection that has not sent enough bytes to tell its HTTP version within
        /// this time. `nil` waits forever. After detection the HTTP/1 `idleTimeout` and HTTP/2
        /// `idleTimeout` of ``http2`` take over.
        public var protocolDetectionTimeout: TimeAmount?

        /// Create a configuration.
        /// - Parameters:
        ///   - http2: HTTP/2 connection settings, whose `streamConfiguration` also configures HTTP/1.1.
        ///   - protocolDetectionTimeout: Time a new connection gets to send its first bytes.
        public init(
            http2: HTTP2ChannelConfiguration = .init(),
            protocolDetectionTimeout: TimeAmount? = .seconds(30)
        ) {
            self.http2 = http2
            self.protocolDetectionTimeout = protocolDetectionTimeout
        }
    }

    /// A connection whose HTTP version is being, or has been, detected.
    public struct Value: ServerChildChannelValue {
        /// Completes once the first bytes have been read and the pipeline configured.
        let negotiated: EventLoopFuture<NIONegotiatedHTTPVersion<HTTP1Channel.Value, HTTP2Connection>>
        /// The connection's channel.
        public let channel: any Channel
    }

    /// An HTTP/2 connection, served by Hummingbird's channel or by ``DirectHTTP2Channel``.
    enum HTTP2Connection: Sendable {
        case hummingbird(HTTP2Channel.Value)
        case direct(DirectHTTP2Channel.Connection)
    }

    private let http1: HTTP1Channel
    private let http2: HTTP2Channel
    private let direct: DirectHTTP2Channel?
    /// The configuration this channel was created with.
    public let configuration: Configuration

    /// Responder shared by HTTP/1.1 and HTTP/2 requests.
    public var responder: Responder { self.http1.responder }

    /// Create a channel.
    /// - Parameters:
    ///   - responder: Function returning an HTTP response for an HTTP request.
    ///   - http2Service: when given, HTTP/2 requests are served by it through ``DirectHTTP2Channel`` (one
    ///     channel handler per stream) instead of by `responder` through Hummingbird's `HTTP2Channel`.
    ///   - configuration: Channel configuration.
    public init(
        responder: @escaping Responder, http2Service: HTTP2StreamService? = nil, configuration: Configuration = .init()
    ) {
        self.configuration = configuration
        self.http1 = HTTP1Channel(responder: responder, configuration: configuration.http2.streamConfiguration)
        self.http2 = HTTP2Channel(responder: responder, configuration: configuration.http2)
        self.direct = http2Service.map { DirectHTTP2Channel(service: $0, configuration: configuration.http2) }
    }

    /// Add the preface detection handler to a new connection.
    ///
    /// The returned future completes at once; the HTTP version is only known after the first
    /// reads, which NIO starts once this future has completed, so it is carried in ``Value``.
    /// - Parameters:
    ///   - channel: The accepted connection.
    ///   - logger: Logger used during setup.
    /// - Returns: The connection, with its HTTP version still to come.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let detector = HTTPPrefaceDetectionHandler<
                NIONegotiatedHTTPVersion<HTTP1Channel.Value, HTTP2Connection>
            >(
                eventLoop: channel.eventLoop,
                timeout: self.configuration.protocolDetectionTimeout
            ) { version, channel in
                switch version {
                case .http1:
                    return self.http1.setup(channel: channel, logger: logger).map { .http1_1($0) }
                case .http2:
                    if let direct = self.direct {
                        return direct.setup(channel: channel, logger: logger).map { .http2(.direct($0)) }
                    }
                    return self.http2.setup(channel: channel, logger: logger).map { .http2(.hummingbird($0)) }
                }
            }
            try channel.pipeline.syncOperations.addHandler(detector)
            return Value(negotiated: detector.detectionResult, channel: channel)
        }
    }

    /// Serve the connection with the HTTP/1.1 or HTTP/2 handler, once its version is known.
    /// - Parameters:
    ///   - value: The connection returned by ``setup(channel:logger:)``.
    ///   - logger: Logger to use while serving the connection.
    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1_1(let http1):
                await self.http1.handle(value: http1, logger: logger)
            case .http2(.hummingbird(let http2)):
                await self.http2.handle(value: http2, logger: logger)
            case .http2(.direct(let connection)):
                await self.direct?.handle(connection: connection, logger: logger)
            }
        } catch {
            logger.debug("HTTP version detection failed: \(error)")
        }
    }
}
