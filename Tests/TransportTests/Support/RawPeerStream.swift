import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

@testable import Transport

/// Opens a peer stream by hand, with whatever headers a test wants, to check what the server refuses.
enum RawPeerStream {
    struct Outcome {
        var status: Int?
        var framesReceived: Int
    }

    /// Connects to 127.0.0.1:`port`, opens a stream with `headers`, sends `frames` right behind the head
    /// (before any answer), and reads until the server ends the stream.
    static func open(port: Int, headers: HPACKHeaders, frames: ByteBuffer? = nil) async throws -> Outcome {
        let (channel, streams) = try await connect(port: port)
        defer { channel.close(promise: nil) }
        let stream = try await openStream(on: streams)
        return try await stream.executeThenClose { inbound, outbound in
            try await outbound.write(.head(headers, endStream: false))
            // The server may already have refused and closed the stream: a failed write is part of the test.
            if let frames { try? await outbound.write(.frames(frames)) }
            var outcome = Outcome(status: nil, framesReceived: 0)
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let head): outcome.status = PeerStreamHeaders.status(of: head)
                    case .frame: outcome.framesReceived += 1
                    case .end: return outcome
                    }
                }
            } catch {
                // A reset stream ends the exchange as well.
            }
            return outcome
        }
    }

    /// Connects to 127.0.0.1:`port` (again and again until a connection is made: on a starved machine a connect
    /// may time out) and opens signed streams on that connection back to back (each sends its head and one
    /// request frame, then closes), until the connection fails or the task is cancelled.
    /// - Returns: how many streams were opened.
    static func openRepeatedly(port: Int) async -> Int {
        var connection: Connection?
        while connection == nil, !Task.isCancelled {
            connection = try? await connect(port: port)
            if connection == nil { try? await Task.sleep(for: .milliseconds(10)) }
        }
        guard let (channel, streams) = connection else { return 0 }
        defer { channel.close(promise: nil) }
        var opened = 0
        while !Task.isCancelled {
            do {
                let stream = try await openStream(on: streams)
                try await stream.executeThenClose { _, outbound in
                    try await outbound.write(.head(headers(), endStream: false))
                    try await outbound.write(.frames(requestFrame()))
                }
                opened += 1
            } catch {
                return opened
            }
        }
        return opened
    }

    typealias Connection = (channel: any Channel, streams: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>)

    /// An HTTP/2 client connection to 127.0.0.1:`port`, refusing streams the server opens.
    private static func connect(port: Int) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let streams = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(mode: .client) {
                        $0.close()
                    }
                    return (channel, streams)
                }
            }
    }

    /// A peer stream on `streams`, framed as the transport frames it.
    private static func openStream(
        on streams: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>
    ) async throws -> NIOAsyncChannel<PeerStreamInbound, PeerStreamOutbound> {
        try await streams.openStream { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(PeerStreamCodec(maximumFrameBytes: 1 << 20))
                return try NIOAsyncChannel<PeerStreamInbound, PeerStreamOutbound>(wrappingChannelSynchronously: stream)
            }
        }
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds.
    static func canConnect(port: Int) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// Signed opening headers for `nodeID` at `timestamp` (milliseconds since the epoch).
    static func headers(
        secret: PeerSecret = Fixtures.secret, nodeID: String = Fixtures.clientIdentity.nodeID,
        timestamp: Int64 = WallClock.milliseconds(), path: String = PeerStreamHeaders.path
    ) -> HPACKHeaders {
        let credentials = PeerAuthenticator(secret: secret).credentials(nodeID: nodeID, timestamp: timestamp)
        return PeerStreamHeaders.request(authority: "127.0.0.1", credentials: credentials, path: path)
    }

    /// One frame with one request from the test client.
    static func requestFrame() -> ByteBuffer {
        let envelope = PeerEnvelope(
            id: 1, sender: Fixtures.clientIdentity, ringVersion: 0, kind: 1, flags: .request,
            timeoutMilliseconds: 5_000, payload: Fixtures.bytes("sneaky"))
        var buffer = ByteBuffer()
        try! PeerFrameEncoder().encode([envelope], into: &buffer)
        return buffer
    }
}
