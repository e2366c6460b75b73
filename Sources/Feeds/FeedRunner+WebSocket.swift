import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import Trading

extension FeedRunner {
    /// Connect, read, reconnect with backoff, until cancelled.
    func runWebSocket(
        _ feed: WebSocketFeed, logger: Logger, onTick: @escaping @Sendable (ReferenceTick) async -> Void
    ) async throws {
        var logger = logger
        logger[metadataKey: "url"] = "\(feed.url)"
        // Loading the trust roots is costly: one context serves every reconnect.
        let tls = feed.url.isSecure ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        var attempt = 0
        while !Task.isCancelled {
            do {
                logger.info("connecting to the feed")
                let delivered = try await session(feed, tls: tls, logger: logger, onTick: onTick)
                logger.info("feed connection closed", metadata: ["messages": "\(delivered)"])
                if delivered > 0 { attempt = 0 }
            } catch {
                if Task.isCancelled { return }
                let failure = error as? SessionFailure
                if let failure, failure.delivered > 0 { attempt = 0 }
                logger.warning("feed connection failed", metadata: ["error": "\(failure?.underlying ?? error)"])
            }
            let delay = backoff.delay(attempt: attempt, random: .random(in: 0..<1))
            logger.info("reconnecting to the feed", metadata: ["attempt": "\(attempt + 1)", "delay": "\(delay)"])
            attempt += 1
            try await clock.sleep(for: delay)
        }
    }

    /// A failure after the connection was up, with how many good messages came before it.
    struct SessionFailure: Error {
        var underlying: any Error
        var delivered: Int
    }

    /// One connection: subscribe, then read until the server closes or something fails. Returns the number of
    /// messages that parsed.
    private func session(
        _ feed: WebSocketFeed, tls: NIOSSLContext?, logger: Logger,
        onTick: @Sendable (ReferenceTick) async -> Void
    ) async throws -> Int {
        let connection = try await WebSocketConnector.connect(
            to: feed.url, tls: tls, maxFrameSize: maxMessageBytes, idleTimeout: TimeAmount(idleTimeout))
        logger.info("feed connected")
        var delivered = 0
        do {
            try await connection.executeThenClose { inbound, outbound in
                for message in feed.subscribeMessages {
                    try await outbound.write(Self.frame(.text, ByteBuffer(string: message)))
                }
                var assembler = WebSocketMessageAssembler(maxMessageBytes: maxMessageBytes)
                var badMessages = 0
                for try await frame in inbound {
                    switch try assembler.receive(frame) {
                    case .none:
                        continue
                    case .pong(let payload):
                        try await outbound.write(Self.frame(.pong, payload))
                    case .close(let status):
                        try? await outbound.write(Self.frame(.connectionClose, status))
                        return
                    case .text(let text):
                        let ticks: [ReferenceTick]
                        do {
                            ticks = try feed.parse(text, receivedAtMillis: Self.nowMillis())
                        } catch let error as BourseError where error.code == .validation {
                            badMessages += 1
                            if badMessages <= 10 || badMessages % 1_000 == 0 {
                                logger.warning(
                                    "skipping a message that does not parse",
                                    metadata: ["error": "\(error.message)", "count": "\(badMessages)"])
                            }
                            continue
                        }
                        delivered += 1
                        for tick in ticks { await onTick(tick) }
                    }
                }
            }
        } catch {
            throw SessionFailure(underlying: error, delivered: delivered)
        }
        return delivered
    }

    private static func frame(_ opcode: WebSocketOpcode, _ payload: ByteBuffer) -> WebSocketFrame {
        // RFC 6455 §5.3: every frame from a client is masked.
        WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: payload)
    }
}
