import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import Testing

@testable import Transport

@Suite("Stream codec on an embedded channel")
struct PeerStreamCodecTests {
    func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(PeerStreamCodec(maximumFrameBytes: 1 << 16))
        return channel
    }

    func frameBytes(_ ids: [UInt64]) throws -> ByteBuffer {
        let envelopes = ids.map { id in
            PeerEnvelope(
                id: id, sender: Fixtures.clientIdentity, ringVersion: 1, kind: 2, flags: .request,
                timeoutMilliseconds: 100, payload: ByteBuffer(string: "p\(id)"))
        }
        var buffer = ByteBuffer()
        try PeerFrameEncoder().encode(envelopes, into: &buffer)
        return buffer
    }

    func data(_ bytes: ByteBuffer, endStream: Bool = false) -> HTTP2Frame.FramePayload {
        .data(.init(data: .byteBuffer(bytes), endStream: endStream))
    }

    @Test("a frame split over DATA frames arrives once, whole; END_STREAM arrives as the end")
    func reassembly() throws {
        let channel = try makeChannel()
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: [":path": PeerStreamHeaders.path])))
        guard case .head(let head)? = try channel.readInbound(as: PeerStreamInbound.self) else {
            Issue.record("expected the head")
            return
        }
        #expect(head.first(name: ":path") == PeerStreamHeaders.path)

        var bytes = try frameBytes([1, 2, 3])
        let pieces = [bytes.readSlice(length: 3)!, bytes.readSlice(length: 20)!, bytes]
        for piece in pieces.dropLast() {
            try channel.writeInbound(data(piece))
            #expect(try channel.readInbound(as: PeerStreamInbound.self) == nil)
        }
        try channel.writeInbound(data(pieces.last!, endStream: true))
        guard case .frame(let envelopes)? = try channel.readInbound(as: PeerStreamInbound.self) else {
            Issue.record("expected a frame")
            return
        }
        #expect(envelopes.map(\.id) == [1, 2, 3])
        guard case .end? = try channel.readInbound(as: PeerStreamInbound.self) else {
            Issue.record("expected the end")
            return
        }
        _ = try channel.finish()
    }

    @Test("garbage closes the stream with a decoding error")
    func garbage() throws {
        let channel = try makeChannel()
        var garbage = ByteBuffer()
        garbage.writeInteger(UInt32(5))
        garbage.writeBytes([9, 9, 9, 9, 9])
        #expect(throws: PeerTransportError.self) { try channel.writeInbound(data(garbage)) }
        #expect(!channel.isActive)
    }

    @Test("quiescing ends the inbound side at once and drops what comes after")
    func quiesce() throws {
        let channel = try makeChannel()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        guard case .end? = try channel.readInbound(as: PeerStreamInbound.self) else {
            Issue.record("expected the end")
            return
        }
        try channel.writeInbound(data(try frameBytes([4])))
        #expect(try channel.readInbound(as: PeerStreamInbound.self) == nil)
        _ = try channel.finish()
    }

    @Test("writes become HEADERS and DATA frames; the end is an empty DATA frame with END_STREAM")
    func outbound() throws {
        let channel = try makeChannel()
        try channel.writeOutbound(PeerStreamOutbound.head(PeerStreamHeaders.response(status: 401), endStream: true))
        guard case .headers(let headers)? = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("expected HEADERS")
            return
        }
        #expect(headers.endStream)
        #expect(PeerStreamHeaders.status(of: headers.headers) == 401)

        let bytes = try frameBytes([7])
        try channel.writeOutbound(PeerStreamOutbound.frames(bytes))
        try channel.writeOutbound(PeerStreamOutbound.end)
        guard case .data(let written)? = try channel.readOutbound(as: HTTP2Frame.FramePayload.self),
            case .byteBuffer(let payload) = written.data
        else {
            Issue.record("expected DATA")
            return
        }
        #expect(payload == bytes)
        #expect(!written.endStream)
        guard case .data(let end)? = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("expected the end")
            return
        }
        #expect(end.endStream)
        _ = try channel.finish()
    }
}

extension PeerStreamInbound: Equatable {
    public static func == (left: Self, right: Self) -> Bool {
        switch (left, right) {
        case (.head(let a), .head(let b)): a == b
        case (.frame(let a), .frame(let b)): a == b
        case (.end, .end): true
        default: false
        }
    }
}
