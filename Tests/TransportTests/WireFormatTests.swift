import NIOCore
import TestSupport
import Testing

@testable import Transport

@Suite("Wire format")
struct WireFormatTests {
    static func envelope(_ id: UInt64, payload: String = "payload", flags: PeerEnvelope.Flags = .request)
        -> PeerEnvelope
    {
        PeerEnvelope(
            id: id, sender: PeerIdentity(nodeID: "bourse-\(id % 3)", incarnation: 1_700_000_000_000 &+ id),
            ringVersion: 40 &+ id, kind: UInt16(id % 500), flags: flags,
            timeoutMilliseconds: UInt32(truncatingIfNeeded: id &* 7),
            payload: ByteBuffer(string: payload))
    }

    static func encoded(_ envelopes: [PeerEnvelope], maximumFrameBytes: Int = PeerFrameFormat.defaultMaximumFrameBytes)
        throws -> ByteBuffer
    {
        var buffer = ByteBuffer()
        try PeerFrameEncoder(maximumFrameBytes: maximumFrameBytes).encode(envelopes, into: &buffer)
        return buffer
    }

    @Test("a batch of envelopes survives encode and decode unchanged")
    func roundTrip() throws {
        let envelopes = [
            Self.envelope(1), Self.envelope(2, payload: "", flags: .reply),
            Self.envelope(3, payload: String(repeating: "x", count: 10_000), flags: [.reply, .error]),
            Self.envelope(UInt64.max, payload: "é☃", flags: [.reply, .error, .transport]),
        ]
        let frame = try Self.encoded(envelopes)
        #expect(try PeerFrameDecoder().decodeFrame(exactly: frame) == envelopes)
    }

    @Test("frames split at the size limit and decode back in order")
    func splitsAtTheLimit() throws {
        let envelopes = (0..<50).map { Self.envelope($0, payload: String(repeating: "p", count: 100)) }
        let single = PeerFrameFormat.encodedSize(of: envelopes[0])
        var buffer = ByteBuffer()
        let frames = try PeerFrameEncoder(maximumFrameBytes: single * 10 + PeerFrameFormat.bodyHeaderBytes)
            .encode(envelopes, into: &buffer)
        #expect(frames == 5)
        var decoded: [PeerEnvelope] = []
        let decoder = PeerFrameDecoder(maximumFrameBytes: single * 10 + PeerFrameFormat.bodyHeaderBytes)
        while let frame = try decoder.decodeFrame(from: &buffer) { decoded += frame }
        #expect(decoded == envelopes)
        #expect(buffer.readableBytes == 0)
    }

    @Test("bytes arriving one at a time decode to the same frames")
    func incrementalDecoding() throws {
        let first = [Self.envelope(10), Self.envelope(11)]
        let second = [Self.envelope(12, payload: "second frame")]
        var wire = try Self.encoded(first)
        var more = try Self.encoded(second)
        wire.writeBuffer(&more)
        var pending = ByteBuffer()
        var frames: [[PeerEnvelope]] = []
        for byte in wire.readableBytesView {
            pending.writeInteger(byte)
            if let frame = try PeerFrameDecoder().decodeFrame(from: &pending) { frames.append(frame) }
        }
        #expect(frames == [first, second])
    }

    @Test("every truncation of a frame is incomplete, never a crash or a wrong frame")
    func truncations() throws {
        let frame = try Self.encoded([Self.envelope(1), Self.envelope(2, payload: "two")])
        for length in 0..<frame.readableBytes {
            var prefix = frame.getSlice(at: frame.readerIndex, length: length)!
            #expect(try PeerFrameDecoder().decodeFrame(from: &prefix) == nil)
            #expect(prefix.readableBytes == length, "nothing consumed")
            #expect(throws: PeerTransportError.self) {
                try PeerFrameDecoder().decodeFrame(exactly: frame.getSlice(at: frame.readerIndex, length: length)!)
            }
        }
    }

    @Test("a length above the limit is rejected from the prefix alone")
    func oversizedLength() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32.max)
        let error = #expect(throws: PeerTransportError.self) {
            try PeerFrameDecoder(maximumFrameBytes: 1 << 20).decodeFrame(from: &buffer)
        }
        #expect(error?.code == .frameTooLarge)
    }

    @Test("a body whose length field lies about its contents is rejected")
    func lyingLengths() throws {
        var frame = try Self.encoded([Self.envelope(1)])
        // Envelope count says 2 but only one envelope follows.
        frame.setInteger(UInt16(2), at: frame.readerIndex + 5)
        #expect(throws: PeerTransportError.self) { try PeerFrameDecoder().decodeFrame(exactly: frame) }

        // Payload length claims more bytes than the frame has.
        var payloadLie = try Self.encoded([Self.envelope(1, payload: "abc")])
        let payloadLengthIndex = payloadLie.writerIndex - 3 - 4
        payloadLie.setInteger(UInt32.max, at: payloadLengthIndex)
        #expect(throws: PeerTransportError.self) { try PeerFrameDecoder().decodeFrame(exactly: payloadLie) }

        // Payload length claims fewer bytes: trailing bytes.
        var trailing = try Self.encoded([Self.envelope(1, payload: "abc")])
        trailing.setInteger(UInt32(1), at: trailing.writerIndex - 3 - 4)
        #expect(throws: PeerTransportError.self) { try PeerFrameDecoder().decodeFrame(exactly: trailing) }
    }

    @Test("unknown version, empty frames, bad flags and bad node ids are rejected")
    func invalidFields() throws {
        let good = try Self.encoded([Self.envelope(1)])
        let start = good.readerIndex
        let nodeStart = start + 4 + 3 + 8 + 1
        let flagsIndex = nodeStart + Self.envelope(1).sender.nodeID.utf8.count + 8 + 8 + 2
        let mutations: [(String, (inout ByteBuffer) -> Void)] = [
            ("version", { $0.setInteger(UInt8(2), at: start + 4) }),
            ("count zero", { $0.setInteger(UInt16(0), at: start + 5) }),
            ("flags request+reply", { $0.setInteger(UInt8(3), at: flagsIndex) }),
            ("flags none", { $0.setInteger(UInt8(0), at: flagsIndex) }),
            ("flags error on request", { $0.setInteger(UInt8(5), at: flagsIndex) }),
            ("flags unknown bit", { $0.setInteger(UInt8(0x12), at: flagsIndex) }),
            ("node id not UTF-8", { $0.setInteger(UInt8(0xFF), at: nodeStart) }),
            ("node id with |", { $0.setInteger(UInt8(ascii: "|"), at: nodeStart) }),
            ("node id length zero", { $0.setInteger(UInt8(0), at: nodeStart - 1) }),
        ]
        for (name, mutate) in mutations {
            var frame = good
            mutate(&frame)
            #expect(throws: PeerTransportError.self, "\(name)") { try PeerFrameDecoder().decodeFrame(exactly: frame) }
        }
        #expect(try PeerFrameDecoder().decodeFrame(exactly: good).count == 1)
    }

    @Test("random garbage never crashes the decoder")
    func garbage() {
        var random = SeededRandom(seed: 42)
        var accepted = 0
        for round in 0..<5_000 {
            var buffer = ByteBuffer()
            let length = Int(random.next() % 200)
            // Half the inputs start with a plausible length prefix so the body checks get exercised.
            if round % 2 == 0 { buffer.writeInteger(UInt32(length)) }
            for _ in 0..<length { buffer.writeInteger(UInt8(truncatingIfNeeded: random.next())) }
            do {
                while let _ = try PeerFrameDecoder(maximumFrameBytes: 4_096).decodeFrame(from: &buffer) {
                    accepted += 1
                }
            } catch {
                // Rejected: what we want from garbage.
            }
        }
        #expect(accepted < 5_000)
    }

    @Test("the encoder refuses a message that cannot fit any frame, writing nothing")
    func encoderRefusesOversizedMessages() {
        var buffer = ByteBuffer()
        let big = Self.envelope(1, payload: String(repeating: "x", count: 2_000))
        let error = #expect(throws: PeerTransportError.self) {
            try PeerFrameEncoder(maximumFrameBytes: 1_000).encode([Self.envelope(2), big], into: &buffer)
        }
        #expect(error?.code == .messageTooLarge)
        #expect(buffer.readableBytes == 0)
    }
}
