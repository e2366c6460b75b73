import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// A WebSocket server on 127.0.0.1 that plays recorded text messages to every client, for feed tests.
///
/// Each connection gets the messages in order; with `closeAfter` it sends a close frame after that many and hangs
/// up, and with `resume` the next connection continues where the last one stopped. It records the request paths,
/// the text messages clients send (a Coinbase subscribe) and the pongs that answer its pings.
///
/// ```swift
/// try await WebSocketReplayServer.withServer(.init(messages: recorded, closeAfter: 2)) { server in
///     let url = "ws://127.0.0.1:\(server.port)/ws"
///     …
/// }
/// ```
public final class WebSocketReplayServer: Sendable {
    /// What the server plays and how.
    public struct Options: Sendable {
        /// The text messages, in order.
        public var messages: [String]
        /// Close each connection (with a close frame) after this many messages; nil keeps it open.
        public var closeAfter: Int?
        /// Each new connection continues after the last message sent on the previous one.
        public var resume: Bool
        /// Send nothing until the client has sent a text message (as Coinbase waits for a subscribe).
        public var waitForClientMessage: Bool
        /// Split each message into frames of this many bytes (a text frame and continuations).
        public var fragmentSize: Int?
        /// Send a ping carrying "bourse" before the messages.
        public var pingFirst: Bool

        public init(
            messages: [String], closeAfter: Int? = nil, resume: Bool = false, waitForClientMessage: Bool = false,
            fragmentSize: Int? = nil, pingFirst: Bool = false
        ) {
            self.messages = messages
            self.closeAfter = closeAfter
            self.resume = resume
            self.waitForClientMessage = waitForClientMessage
            self.fragmentSize = fragmentSize
            self.pingFirst = pingFirst
        }
    }

    private struct State: Sendable {
        var paths: [String] = []
        var received: [String] = []
        var pongs: [String] = []
        var cursor = 0
    }

    /// Shared with the pipeline setup, which runs before the server object exists.
    private final class Recorder: Sendable {
        let state = Mutex(State())
    }

    private enum Upgrade: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused(any Channel)
    }

    /// The port the server listens on.
    public let port: Int
    private let options: Options
    private let recorder: Recorder

    private init(port: Int, options: Options, recorder: Recorder) {
        self.port = port
        self.options = options
        self.recorder = recorder
    }

    /// The request paths (with query) of the upgrades so far.
    public var requestPaths: [String] { recorder.state.withLock { $0.paths } }
    /// The text messages clients sent, in order.
    public var receivedMessages: [String] { recorder.state.withLock { $0.received } }
    /// The payloads of the pongs clients sent.
    public var receivedPongs: [String] { recorder.state.withLock { $0.pongs } }
    /// How many WebSocket connections were accepted.
    public var connectionCount: Int { recorder.state.withLock { $0.paths.count } }

    /// Runs a server for the duration of `body`, then closes it and every connection.
    public static func withServer<Result: Sendable>(
        _ options: Options, _ body: (WebSocketReplayServer) async throws -> Result
    ) async throws -> Result {
        let recorder = Recorder()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel, recorder: recorder) }
            }
        let port = listener.channel.localAddress?.port ?? 0
        let server = WebSocketReplayServer(port: port, options: options, recorder: recorder)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await listener.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        for try await upgrade in inbound {
                            connections.addTask { await server.serve(upgrade) }
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            let result = try await body(server)
            try? await listener.channel.close()
            return result
        }
    }

    private static func configure(_ channel: any Channel, recorder: Recorder) throws -> EventLoopFuture<Upgrade> {
        let upgrader = NIOTypedWebSocketServerUpgrader<Upgrade>(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, head in
                recorder.state.withLock { $0.paths.append(head.uri) }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    .websocket(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                }
            })
        let configuration = NIOTypedHTTPServerUpgradeConfiguration<Upgrade>(upgraders: [upgrader]) { channel in
            channel.eventLoop.makeSucceededFuture(.refused(channel))
        }
        return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
            configuration: .init(upgradeConfiguration: configuration))
    }

    private func serve(_ upgrade: EventLoopFuture<Upgrade>) async {
        do {
            switch try await upgrade.get() {
            case .refused(let channel):
                try await channel.close()
            case .websocket(let connection):
                try await play(on: connection)
            }
        } catch {
            // A test ended or a client went away: nothing to do.
        }
    }

    private func play(on connection: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            if options.pingFirst {
                try await outbound.write(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "bourse")))
            }
            if options.waitForClientMessage {
                while let frame = try await frames.next() {
                    if record(frame) == .text { break }
                }
            }
            var sent = 0
            while options.closeAfter.map({ sent < $0 }) ?? true {
                let index = recorder.state.withLock { state in
                    defer { if options.resume { state.cursor += 1 } }
                    return options.resume ? state.cursor : sent
                }
                guard index < options.messages.count else { break }
                for frame in fragments(of: options.messages[index]) { try await outbound.write(frame) }
                sent += 1
            }
            if options.closeAfter != nil, sent == options.closeAfter {
                var status = ByteBuffer()
                status.write(webSocketErrorCode: .goingAway)
                try await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: status))
                // Closing the channel at once could drop frames still queued in the writer: wait for the client's
                // close (or its hang-up), which also completes the closing handshake of RFC 6455.
                while let frame = try await frames.next() {
                    if record(frame) == .connectionClose { return }
                }
                return
            }
            while let frame = try await frames.next() {
                if record(frame) == .connectionClose {
                    try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer()))
                    return
                }
            }
        }
    }

    /// Notes a client frame; returns its opcode.
    private func record(_ frame: WebSocketFrame) -> WebSocketOpcode {
        let text = String(buffer: frame.unmaskedData)
        recorder.state.withLock { state in
            switch frame.opcode {
            case .text: state.received.append(text)
            case .pong: state.pongs.append(text)
            default: break
            }
        }
        return frame.opcode
    }

    private func fragments(of message: String) -> [WebSocketFrame] {
        let bytes = Array(message.utf8)
        let size = max(1, options.fragmentSize ?? bytes.count)
        var frames: [WebSocketFrame] = []
        var start = 0
        repeat {
            let end = min(bytes.count, start + size)
            frames.append(
                WebSocketFrame(
                    fin: end == bytes.count, opcode: start == 0 ? .text : .continuation,
                    data: ByteBuffer(bytes: bytes[start..<end])))
            start = end
        } while start < bytes.count
        return frames
    }
}
