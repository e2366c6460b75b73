import Logging
import NIOCore
import NIOHTTP2
import NIOPosix

extension PeerClient {
    typealias PeerStream = NIOAsyncChannel<PeerStreamInbound, PeerStreamOutbound>

    private enum ConnectionOutcome {
        /// The peer accepted the stream; it has since ended.
        case served
        /// The peer answered the stream opening with `status`.
        case refused(status: Int?)
        /// No stream: connect or open failed.
        case failed
    }

    /// Keeps a stream to the peer open, reconnecting with backoff, until the task is cancelled or a graceful
    /// shutdown has drained the waiting calls. Calls still waiting then fail with `.shutdown`.
    public func run() async throws {
        var attempt = 0
        var random = SystemRandomNumberGenerator()
        while !Task.isCancelled, !table.withLock({ $0.isDrained }) {
            let outcome = await connectAndServe()
            perform(table.withLock { $0.connectionLost() })
            switch outcome {
            case .served:
                attempt = 0
            case .refused(let status):
                counters.withLock { $0.refusals += 1 }
                logger.error("peer refused the stream", metadata: ["status": "\(status.map(String.init) ?? "none")"])
                if status == 401 {
                    perform(table.withLock { $0.failAll(.unauthenticated, reason: "peer refused the signature") })
                }
            case .failed:
                break
            }
            if Task.isCancelled || table.withLock({ $0.isDrained }) { break }
            let delay = configuration.backoff.delay(forAttempt: attempt, using: &random)
            attempt += 1
            do {
                try await Task.sleep(for: delay)
            } catch {
                break
            }
        }
        perform(table.withLock { $0.close() })
    }

    private func connectAndServe() async -> ConnectionOutcome {
        let connection: (channel: any Channel, streams: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>)
        do {
            connection = try await connect()
        } catch {
            logger.debug("cannot connect to peer", metadata: ["error": "\(error)"])
            return .failed
        }
        defer { connection.channel.close(promise: nil) }
        return await withTaskExecutorPreference(EventLoopTaskExecutor(connection.channel.eventLoop)) {
            await serve(connection)
        }
    }

    /// Opens the stream on `connection`, authenticates, and exchanges frames until the stream ends.
    private func serve(_ connection: (channel: any Channel, streams: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>))
        async -> ConnectionOutcome
    {
        var established = false
        do {
            let maximumFrameBytes = configuration.maximumFrameBytes
            let stream = try await connection.streams.openStream { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        PeerStreamCodec(maximumFrameBytes: maximumFrameBytes))
                    return try PeerStream(wrappingChannelSynchronously: channel)
                }
            }
            return try await stream.executeThenClose { inbound, outbound in
                let credentials = authenticator.credentials(
                    nodeID: configuration.identity.nodeID, timestamp: WallClock.milliseconds())
                let authority = "\(configuration.host):\(configuration.port)"
                try await outbound.write(
                    .head(PeerStreamHeaders.request(authority: authority, credentials: credentials), endStream: false))
                var frames = inbound.makeAsyncIterator()
                guard case .head(let head)? = try await frames.next() else { return .failed }
                let status = PeerStreamHeaders.status(of: head)
                guard status == 200 else { return .refused(status: status) }
                established = true
                table.withLock { $0.connectionEstablished() }
                counters.withLock { $0.connections += 1 }
                logger.debug("peer stream open")
                try await exchange(frames: &frames, outbound: outbound)
                return .served
            }
        } catch {
            logger.debug("peer stream ended", metadata: ["error": "\(error)"])
            return established ? .served : .failed
        }
    }

    /// Writes requests and reads replies until the stream ends either way.
    private func exchange(
        frames: inout NIOAsyncChannelInboundStream<PeerStreamInbound>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<PeerStreamOutbound>
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.writeRequests(to: outbound) }
            defer { group.cancelAll() }
            do {
                reading: while let part = try await frames.next() {
                    switch part {
                    case .frame(let envelopes):
                        guard envelopes.allSatisfy({ $0.flags.contains(.reply) }) else {
                            throw PeerTransportError(code: .protocolViolation, reason: "request on a client stream")
                        }
                        counters.withLock {
                            $0.framesReceived += 1
                            $0.repliesReceived += envelopes.count
                        }
                        perform(table.withLock { $0.receive(envelopes) })
                    case .end:
                        break reading
                    case .head:
                        throw PeerTransportError(code: .protocolViolation, reason: "second head on a stream")
                    }
                }
            } catch {
                perform(table.withLock { $0.connectionLost() })
                throw error
            }
            perform(table.withLock { $0.connectionLost() })
            try await group.waitForAll()
        }
    }

    /// Takes whatever calls are queued, writes them as frames, and repeats; ends the stream once drained.
    private func writeRequests(to outbound: NIOAsyncChannelOutboundWriter<PeerStreamOutbound>) async throws {
        let encoder = PeerFrameEncoder(maximumFrameBytes: configuration.maximumFrameBytes)
        while let envelopes = await nextOutbound() {
            var bytes = 0
            for envelope in envelopes {
                bytes += PeerFrameFormat.encodedSize(of: envelope) + PeerFrameFormat.lengthPrefixBytes
            }
            var buffer = ByteBuffer()
            buffer.reserveCapacity(bytes + 16)
            let frames = try encoder.encode(envelopes, into: &buffer)
            counters.withLock {
                $0.framesSent += frames
                $0.requestsSent += envelopes.count
            }
            try await outbound.write(.frames(buffer))
        }
        if table.withLock({ $0.isDrained }) { try await outbound.write(.end) }
    }

    /// The next envelopes to write, waiting for some; `nil` when the writer should stop.
    private func nextOutbound() async -> [PeerEnvelope]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (writer: CheckedContinuation<[PeerEnvelope]?, Never>) in
                let next = table.withLock { table in
                    Task.isCancelled ? .stop : table.nextOutbound(writer: writer, now: .now)
                }
                switch next {
                case .envelopes(let envelopes): writer.resume(returning: envelopes)
                case .stop: writer.resume(returning: nil)
                case .parked: break
                }
            }
        } onCancel: {
            table.withLock { $0.cancelWriter() }?.resume(returning: nil)
        }
    }

    private func connect() async throws -> (
        channel: any Channel, streams: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>
    ) {
        let http2 = PeerHTTP2Configuration.make()
        return try await ClientBootstrap(group: eventLoopGroup)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let streams = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
                        mode: .client, configuration: http2
                    ) { stream in
                        // Peers never open streams towards a client.
                        stream.close()
                    }
                    return (channel, streams)
                }
            }
    }
}
