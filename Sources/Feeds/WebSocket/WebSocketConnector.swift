import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Trading

/// Opens WebSocket client connections: TCP (ClientBootstrap), TLS with SNI for `wss`, the HTTP/1.1 upgrade, and a
/// read-idle timeout, handing back frames as a `NIOAsyncChannel`.
enum WebSocketConnector {
    typealias Connection = NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

    private enum Upgrade: Sendable {
        case websocket(Connection)
        case refused
    }

    /// Connects and upgrades; throws when the server refuses the upgrade or the connection fails.
    /// - Parameters:
    ///   - tls: The TLS context for `wss` URLs (required for them, ignored for `ws`).
    ///   - maxFrameSize: The largest frame accepted from the server.
    ///   - idleTimeout: A connection that receives nothing for this long is closed.
    static func connect(
        to url: WebSocketURL,
        tls: NIOSSLContext?,
        maxFrameSize: Int,
        idleTimeout: TimeAmount,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Connection {
        if url.isSecure, tls == nil { throw BourseError(.internal, "a wss URL needs a TLS context") }
        let (channel, upgrade) = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .connect(host: url.host, port: url.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if url.isSecure, let tls {
                        let serverName = url.hostIsIPAddress ? nil : url.host
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.addHandler(IdleCloseHandler())
                    let upgrade = try pipeline.configureUpgradableHTTPClientPipeline(
                        configuration: configuration(url: url, maxFrameSize: maxFrameSize))
                    return (channel, upgrade)
                }
            }
        do {
            // A future's result does not watch for cancellation: closing the channel completes it.
            let result = try await withTaskCancellationHandler {
                try await upgrade.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            switch result {
            case .websocket(let connection):
                return connection
            case .refused:
                throw BourseError(.unavailable, "the server refused the WebSocket upgrade")
            }
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private static func configuration(url: WebSocketURL, maxFrameSize: Int)
        -> NIOUpgradableHTTPClientPipelineConfiguration<Upgrade>
    {
        let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: maxFrameSize) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                .websocket(try Connection(wrappingChannelSynchronously: channel))
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        headers.add(name: "User-Agent", value: "bourse-feeds")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.path, headers: headers)
        let upgrade = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
            upgradeRequestHead: head, upgraders: [upgrader]
        ) { channel in
            channel.eventLoop.makeSucceededFuture(.refused)
        }
        var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgrade)
        // Frames the server sends right behind its 101 response must not be lost.
        configuration.leftOverBytesStrategy = .forwardBytes
        return configuration
    }
}

/// Closes the connection when `IdleStateHandler` reports that nothing was read for its timeout.
private final class IdleCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
