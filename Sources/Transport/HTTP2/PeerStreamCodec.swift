import NIOCore
import NIOHTTP2

/// The protocol half of a peer stream, on the HTTP/2 stream channel: turns DATA frames into decoded
/// ``PeerFrameFormat`` frames and the async side's writes into HEADERS and DATA frames.
///
/// On a `ChannelShouldQuiesceEvent` (the server is shutting down) it reports `.end` and drops later input: the
/// async side then finishes what it has, replies and ends the stream; the client resends anything unanswered on
/// its next connection.
final class PeerStreamCodec: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = PeerStreamInbound
    typealias OutboundIn = PeerStreamOutbound
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let decoder: PeerFrameDecoder
    private var received = ByteBuffer()
    private var headSeen = false
    private var ended = false

    init(maximumFrameBytes: Int) {
        self.decoder = PeerFrameDecoder(maximumFrameBytes: maximumFrameBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if !headSeen {
                headSeen = true
                context.fireChannelRead(wrapInboundOut(.head(headers.headers)))
            }
            if headers.endStream { end(context: context) }
        case .data(let data):
            if case .byteBuffer(let bytes) = data.data { receive(bytes, context: context) }
            if data.endStream { end(context: context) }
        default:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            end(context: context)
            // Outside a read loop: deliver now rather than at the next read completion.
            context.fireChannelReadComplete()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload: HTTP2Frame.FramePayload
        switch unwrapOutboundIn(data) {
        case .head(let headers, let endStream):
            payload = .headers(.init(headers: headers, endStream: endStream))
        case .frames(let bytes):
            payload = .data(.init(data: .byteBuffer(bytes)))
        case .end:
            payload = .data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))
        }
        context.write(wrapOutboundOut(payload), promise: promise)
    }

    private func receive(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        if received.readableBytes == 0 {
            received = bytes
        } else {
            var bytes = bytes
            received.writeBuffer(&bytes)
        }
        do {
            while !ended, let envelopes = try decoder.decodeFrame(from: &received) {
                context.fireChannelRead(wrapInboundOut(.frame(envelopes)))
            }
        } catch {
            ended = true
            received = ByteBuffer()
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        if received.readableBytes == 0 { received = ByteBuffer() }
    }

    private func end(context: ChannelHandlerContext) {
        guard !ended else { return }
        ended = true
        received = ByteBuffer()
        context.fireChannelRead(wrapInboundOut(.end))
    }
}

@available(*, unavailable)
extension PeerStreamCodec: Sendable {}
