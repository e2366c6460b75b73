import NIOCore
import NIOWebSocket
import Trading

/// The client side of RFC 6455 messaging as a pure state machine: frames in, actions out.
///
/// It joins fragmented messages (a first frame and its `continuation` frames), enforces a maximum message size,
/// answers pings, and acknowledges close. Binary messages are assembled and dropped (no supported feed sends them).
/// Control frames may arrive in the middle of a fragmented message.
struct WebSocketMessageAssembler {
    /// What the connection should do after a frame.
    enum Action: Equatable {
        /// Nothing yet (a fragment, a pong, a binary message).
        case none
        /// A complete text message.
        case text(String)
        /// Send a pong carrying this payload.
        case pong(ByteBuffer)
        /// Send a close frame with this payload (the peer's status code, or empty) and stop reading.
        case close(ByteBuffer)
    }

    private enum Partial {
        case text(ByteBuffer)
        case binary(Int)
    }

    /// The largest message accepted, in bytes.
    let maxMessageBytes: Int
    private var partial: Partial?

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    mutating func receive(_ frame: WebSocketFrame) throws(BourseError) -> Action {
        let data = frame.unmaskedData
        switch frame.opcode {
        case .text, .binary:
            guard partial == nil else { throw .validation("a new message began inside a fragmented one") }
            try checkSize(data.readableBytes)
            let isText = frame.opcode == .text
            if frame.fin {
                guard isText else { return .none }
                return try decode(data)
            }
            partial = isText ? .text(data) : .binary(data.readableBytes)
            return .none
        case .continuation:
            switch partial {
            case nil:
                throw .validation("a continuation frame arrived outside a fragmented message")
            case .text(var buffer):
                try checkSize(buffer.readableBytes + data.readableBytes)
                var more = data
                buffer.writeBuffer(&more)
                guard frame.fin else {
                    partial = .text(buffer)
                    return .none
                }
                partial = nil
                return try decode(buffer)
            case .binary(let count):
                try checkSize(count + data.readableBytes)
                partial = frame.fin ? nil : .binary(count + data.readableBytes)
                return .none
            }
        case .ping:
            return .pong(data)
        case .pong:
            return .none
        case .connectionClose:
            return .close(data.getSlice(at: data.readerIndex, length: min(2, data.readableBytes)) ?? ByteBuffer())
        default:
            throw .validation("unknown WebSocket opcode")
        }
    }

    private func checkSize(_ bytes: Int) throws(BourseError) {
        guard bytes <= maxMessageBytes else {
            throw BourseError(.payloadTooLarge, "WebSocket message exceeds \(maxMessageBytes) bytes")
        }
    }

    private func decode(_ buffer: ByteBuffer) throws(BourseError) -> Action {
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw .validation("WebSocket text message is not UTF-8")
        }
        return .text(text)
    }
}
