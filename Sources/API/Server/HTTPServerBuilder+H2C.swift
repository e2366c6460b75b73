public import HummingbirdCore
internal import HummingbirdHTTP2
public import NIOSSL

extension HTTPServerBuilder {
    /// Serve HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on the same cleartext port.
    ///
    /// ```swift
    /// let app = Application(router: router, server: .http1AndH2C())
    /// ```
    /// Test with `curl --http2-prior-knowledge http://127.0.0.1:8080/` and `curl --http1.1 ...`.
    /// - Parameters:
    ///   - http2Service: serves HTTP/2 requests through ``DirectHTTP2Channel`` when given (see
    ///     ``HTTP1AndH2CChannel/init(responder:http2Service:configuration:)``).
    ///   - configuration: HTTP/1.1 and HTTP/2 settings.
    /// - Returns: Server builder for `Application(router:server:)`.
    public static func http1AndH2C(
        http2Service: HTTP2StreamService? = nil,
        configuration: HTTP1AndH2CChannel.Configuration = .init()
    ) -> HTTPServerBuilder {
        .init { responder in
            HTTP1AndH2CChannel(responder: responder, http2Service: http2Service, configuration: configuration)
        }
    }

    /// Serve HTTP/1.1 and HTTP/2 on one port: over TLS with ALPN (`h2`, `http/1.1`) when a
    /// TLS configuration is given, else in cleartext with h2c prior-knowledge detection.
    ///
    /// The TLS case is Hummingbird's own `http2Upgrade(tlsConfiguration:configuration:)`,
    /// which overrides `applicationProtocols` and falls back to HTTP/1.1 when the client
    /// offers no ALPN. ``HTTP1AndH2CChannel/Configuration/protocolDetectionTimeout`` does not
    /// apply to it.
    /// - Parameters:
    ///   - tlsConfiguration: TLS server configuration, or `nil` for cleartext.
    ///   - http2Service: in cleartext, serves HTTP/2 requests through ``DirectHTTP2Channel`` when given.
    ///   - configuration: HTTP/1.1 and HTTP/2 settings.
    /// - Returns: Server builder for `Application(router:server:)`.
    /// - Throws: If the TLS configuration cannot be turned into an SSL context.
    public static func http1AndHTTP2(
        tlsConfiguration: TLSConfiguration?,
        http2Service: HTTP2StreamService? = nil,
        configuration: HTTP1AndH2CChannel.Configuration = .init()
    ) throws -> HTTPServerBuilder {
        guard let tlsConfiguration else {
            return .http1AndH2C(http2Service: http2Service, configuration: configuration)
        }
        return try .http2Upgrade(tlsConfiguration: tlsConfiguration, configuration: configuration.http2)
    }
}
