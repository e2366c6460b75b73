import Logging
public import NIOCore
import NIOHTTP2
public import NIOPosix
import Synchronization

/// Listens for peer streams over cleartext HTTP/2 (prior knowledge) and answers them through a
/// ``PeerReceiver``.
///
/// Each connection carries one long-lived stream, `POST /bourse.peer/v1/stream`, opened with signed headers
/// (see ``PeerClient``). The server checks the signature (HTTP 401 and the stream closed otherwise), then reads
/// frames of requests, hands each frame to the receiver as one batch, and writes the replies back on the same
/// stream, coalescing the replies of concurrent batches into shared frames.
///
/// ``run()`` serves until ``triggerGracefulShutdown()`` (stop accepting, answer what has arrived, end the
/// streams, close) or until its task is cancelled (close everything at once). Under swift-service-lifecycle:
/// `try await withGracefulShutdownHandler { try await server.run() } onGracefulShutdown: {
/// server.triggerGracefulShutdown() }`.
public final class PeerServer: Sendable {
    typealias PeerStream = NIOAsyncChannel<PeerStreamInbound, PeerStreamOutbound>

    struct Connection: Sendable {
        let channel: any Channel
        let streams: NIOHTTP2Handler.AsyncStreamMultiplexer<PeerStream>
    }

    private struct State {
        var listener: (any Channel)?
        var address: SocketAddress?
        var failure: PeerTransportError?
        var addressWaiters: [CheckedContinuation<SocketAddress, any Error>] = []
        var connections: [ObjectIdentifier: any Channel] = [:]
        var draining = false
    }

    let configuration: Configuration
    let receiver: PeerReceiver
    let logger: Logger
    let authenticator: PeerAuthenticator
    private let eventLoopGroup: any EventLoopGroup
    private let state = Mutex(State())
    let counters = Mutex(Statistics())
    let nonces = Mutex(NonceCache())

    /// Creates a server answering through `receiver`.
    /// - Parameters:
    ///   - configuration: Address, identity, secret and limits.
    ///   - receiver: Deduplication and the handler; share one receiver across restarts of the listener.
    ///   - logger: Logs carry `peer_node` metadata, never secrets, signatures or payloads.
    ///   - eventLoopGroup: Where the connections run.
    public init(
        configuration: Configuration, receiver: PeerReceiver, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.receiver = receiver
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        var authenticator = PeerAuthenticator(secret: configuration.secret)
        authenticator.maximumSkewMilliseconds = Int64(configuration.maximumClockSkew / .milliseconds(1))
        self.authenticator = authenticator
    }

    /// Creates a server with its own ``PeerReceiver`` around `handler`.
    public convenience init(
        configuration: Configuration, handler: some PeerHandler, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.init(
            configuration: configuration, receiver: PeerReceiver(handler: handler), logger: logger,
            eventLoopGroup: eventLoopGroup)
    }

    /// Counters so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    /// Connections accepted and not yet closed.
    var openConnections: Int { state.withLock { $0.connections.count } }

    /// The bound address, once ``run()`` has bound it (waits until then).
    /// - Throws: ``PeerTransportError`` `.unavailable` if binding failed.
    public var listeningAddress: SocketAddress {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<SocketAddress, PeerTransportError>? = state.withLock { state in
                    if let address = state.address { return .success(address) }
                    if let failure = state.failure { return .failure(failure) }
                    state.addressWaiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }

    /// Binds and serves until a graceful shutdown completes or the task is cancelled.
    /// - Throws: ``PeerTransportError`` `.unavailable` if the address cannot be bound.
    public func run() async throws {
        let listener: NIOAsyncChannel<Connection, Never>
        do {
            listener = try await bind()
        } catch {
            let failure = PeerTransportError(code: .unavailable, reason: "cannot bind the peer port")
            let waiters = state.withLock { state in
                state.failure = failure
                defer { state.addressWaiters = [] }
                return state.addressWaiters
            }
            for waiter in waiters { waiter.resume(throwing: failure) }
            logger.error("peer server cannot bind", metadata: ["error": "\(error)"])
            throw failure
        }
        let address = listener.channel.localAddress
        let (waiters, draining) = state.withLock { state in
            state.listener = listener.channel
            state.address = address
            defer { state.addressWaiters = [] }
            return (state.addressWaiters, state.draining)
        }
        for waiter in waiters {
            if let address {
                waiter.resume(returning: address)
            } else {
                waiter.resume(throwing: PeerTransportError(code: .unavailable, reason: "no local address"))
            }
        }
        if draining { listener.channel.close(promise: nil) }
        logger.info("peer server listening", metadata: ["address": "\(address.map { "\($0)" } ?? "?")"])

        await withTaskCancellationHandler {
            await serve(listener)
        } onCancel: {
            self.closeEverything()
        }
        state.withLock { $0.listener = nil }
        logger.info("peer server stopped")
    }

    /// Stops accepting connections and streams, lets in-flight batches finish and their replies go out, then
    /// ends the streams and closes the connections; ``run()`` returns when all are closed (or after
    /// ``Configuration/gracefulShutdownTimeout``). Clients resend unanswered requests elsewhere or later.
    public func triggerGracefulShutdown() {
        let (listener, connections) = state.withLock { state in
            state.draining = true
            return (state.listener, Array(state.connections.values))
        }
        listener?.close(promise: nil)
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    private func closeEverything() {
        let (listener, connections) = state.withLock { state in
            state.draining = true
            return (state.listener, Array(state.connections.values))
        }
        listener?.close(promise: nil)
        for connection in connections { connection.close(promise: nil) }
    }

    private func serve(_ listener: NIOAsyncChannel<Connection, Never>) async {
        await withDiscardingTaskGroup { group in
            do {
                try await listener.executeThenClose { connections in
                    // Connections were registered as they were accepted (`register`), so the ones still
                    // buffered here when this loop ends are closed by `closeEverything` too.
                    for try await connection in connections {
                        group.addTask(executorPreference: EventLoopTaskExecutor(connection.channel.eventLoop)) {
                            await self.serve(connection)
                        }
                    }
                }
            } catch {
                logger.debug("peer listener ended", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Serves the connection's streams until it closes. Cancellation closes the connection rather than ending
    /// the loop over its inbound streams: a cancelled loop would finish that sequence while the connection
    /// still reads, and a stream the peer opened next would be created and dropped unfinished, which
    /// `NIOAsyncWriter` turns into a trap (docs/reliability.md, Findings 3). So the loop runs in a task of its
    /// own, never cancelled, and ends when the closed connection finishes the sequence.
    private func serve(_ connection: Connection) async {
        let channel = connection.channel
        let loop = Task(executorPreference: EventLoopTaskExecutor(channel.eventLoop)) {
            await withDiscardingTaskGroup { group in
                do {
                    for try await stream in connection.streams.inbound {
                        group.addTask { await self.serve(stream) }
                    }
                } catch {
                    self.logger.debug("peer connection ended", metadata: ["error": "\(error)"])
                }
                // Nobody takes this connection's streams any more: close it (on its event loop, so no frame
                // gets in between).
                channel.close(promise: nil)
            }
        }
        await withTaskCancellationHandler {
            await loop.value
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Records an accepted connection, as soon as it is accepted, until it closes; refuses it (the channel is
    /// then closed) once the server is draining. A connection the accept loop has not taken yet when the
    /// server stops is closed with the others: left open, its stream sequence would be dropped with it and
    /// every stream its peer opened next dropped unfinished, which `NIOAsyncWriter` turns into a trap.
    private func register(_ channel: any Channel) throws {
        let key = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard !state.draining else { return false }
            state.connections[key] = channel
            return true
        }
        guard admitted else { throw PeerTransportError(code: .unavailable, reason: "the peer server is stopping") }
        channel.closeFuture.whenComplete { _ in
            _ = self.state.withLock { $0.connections.removeValue(forKey: key) }
        }
    }

    private func bind() async throws -> NIOAsyncChannel<Connection, Never> {
        let http2 = PeerHTTP2Configuration.make()
        let maximumFrameBytes = configuration.maximumFrameBytes
        let management = NIOHTTP2ServerConnectionManagementHandler.Configuration(
            maxIdleTime: nil, maxAge: nil, maxGraceTime: TimeAmount(configuration.gracefulShutdownTimeout),
            keepalive: configuration.keepaliveInterval.map {
                .init(pingInterval: TimeAmount($0), ackTimeout: .seconds(10))
            }
        )
        return try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try self.register(channel)
                    let streams = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
                        mode: .server, connectionManagerConfiguration: management, http2HandlerConfiguration: http2
                    ) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandler(
                                PeerStreamCodec(maximumFrameBytes: maximumFrameBytes))
                            return try PeerStream(wrappingChannelSynchronously: stream)
                        }
                    }
                    return Connection(channel: channel, streams: streams)
                }
            }
    }
}
