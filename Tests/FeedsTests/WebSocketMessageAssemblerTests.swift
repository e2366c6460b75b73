import NIOCore
import NIOWebSocket
import Testing
import Trading

@testable import Feeds

@Suite("WebSocket message assembly")
struct WebSocketMessageAssemblerTests {
    func frame(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: opcode, data: ByteBuffer(string: text))
    }

    @Test("a single text frame is a message")
    func single() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        #expect(try assembler.receive(frame(.text, "hello")) == .text("hello"))
    }

    @Test("fragments join, and a ping in between is answered at once")
    func fragmented() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        let euro = Array("€".utf8)  // split inside a multi-byte character
        let actions = try [
            assembler.receive(frame(.text, "price ", fin: false)),
            assembler.receive(WebSocketFrame(fin: false, opcode: .continuation, data: ByteBuffer(bytes: euro[..<1]))),
            assembler.receive(frame(.ping, "p")),
            assembler.receive(WebSocketFrame(fin: true, opcode: .continuation, data: ByteBuffer(bytes: euro[1...]))),
            assembler.receive(frame(.text, "next")),
        ]
        #expect(actions == [.none, .none, .pong(ByteBuffer(string: "p")), .text("price €"), .text("next")])
    }

    @Test("continuations out of place are protocol errors")
    func outOfPlace() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        #expect(throws: BourseError.self) { try assembler.receive(frame(.continuation, "x")) }
        _ = try assembler.receive(frame(.text, "a", fin: false))
        #expect(throws: BourseError.self) { try assembler.receive(frame(.text, "b")) }
    }

    @Test("messages over the limit are refused, whole or in fragments")
    func tooLarge() throws {
        var whole = WebSocketMessageAssembler(maxMessageBytes: 4)
        #expect(try whole.receive(frame(.text, "1234")) == .text("1234"))
        #expect(throws: BourseError(.payloadTooLarge, "WebSocket message exceeds 4 bytes")) {
            try whole.receive(frame(.text, "12345"))
        }
        var pieces = WebSocketMessageAssembler(maxMessageBytes: 4)
        _ = try pieces.receive(frame(.text, "123", fin: false))
        #expect(throws: BourseError(.payloadTooLarge, "WebSocket message exceeds 4 bytes")) {
            try pieces.receive(frame(.continuation, "45"))
        }
        var binary = WebSocketMessageAssembler(maxMessageBytes: 4)
        _ = try binary.receive(frame(.binary, "123", fin: false))
        #expect(throws: BourseError.self) { try binary.receive(frame(.continuation, "45")) }
    }

    @Test("binary messages are dropped, bad UTF-8 is an error, close echoes the status")
    func others() throws {
        var assembler = WebSocketMessageAssembler(maxMessageBytes: 100)
        #expect(try assembler.receive(frame(.binary, "bin", fin: false)) == WebSocketMessageAssembler.Action.none)
        #expect(try assembler.receive(frame(.continuation, "ary")) == WebSocketMessageAssembler.Action.none)
        #expect(try assembler.receive(frame(.pong, "")) == WebSocketMessageAssembler.Action.none)
        #expect(throws: BourseError.validation("WebSocket text message is not UTF-8")) {
            try assembler.receive(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0xC3, 0x28])))
        }
        var status = ByteBuffer()
        status.write(webSocketErrorCode: .goingAway)
        status.writeString("bye")
        let close = try assembler.receive(WebSocketFrame(fin: true, opcode: .connectionClose, data: status))
        #expect(close == .close(ByteBuffer(bytes: [0x03, 0xE9])))
    }
}
