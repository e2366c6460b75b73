public import NIOCore

/// Reads frames (see ``PeerFrameFormat``) from bytes that may arrive in pieces.
///
/// Every length is checked against the bytes present and against ``maximumFrameBytes`` before anything is read
/// or allocated, so truncated, oversized or garbage input ends in a ``PeerTransportError`` (`.malformedFrame`
/// or `.frameTooLarge`), never a crash or a large allocation. Payloads are slices of the input, not copies.
public struct PeerFrameDecoder: Sendable {
    /// Upper bound on a frame body, in bytes; a longer announced length is rejected at once.
    public var maximumFrameBytes: Int

    /// Creates a decoder.
    /// - Parameter maximumFrameBytes: Upper bound on a frame body.
    public init(maximumFrameBytes: Int = PeerFrameFormat.defaultMaximumFrameBytes) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// Decodes the frame at the front of `buffer` and consumes it.
    /// - Returns: The frame's envelopes, or `nil` (consuming nothing) while the frame is incomplete.
    /// - Throws: `.frameTooLarge` or `.malformedFrame`; the stream is then unusable.
    public func decodeFrame(from buffer: inout ByteBuffer) throws(PeerTransportError) -> [PeerEnvelope]? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard UInt64(length) <= UInt64(max(0, maximumFrameBytes)) else {
            throw PeerTransportError(code: .frameTooLarge, reason: "frame length above the limit")
        }
        let bodyLength = Int(length)
        guard bodyLength >= PeerFrameFormat.bodyHeaderBytes else {
            throw PeerTransportError(code: .malformedFrame, reason: "frame shorter than its header")
        }
        guard buffer.readableBytes - PeerFrameFormat.lengthPrefixBytes >= bodyLength else { return nil }
        buffer.moveReaderIndex(forwardBy: PeerFrameFormat.lengthPrefixBytes)
        var body = buffer.readSlice(length: bodyLength)!
        return try Self.decodeBody(&body)
    }

    /// Decodes bytes that must hold exactly one whole frame (for tests and fuzzing).
    /// - Throws: `.malformedFrame` when the bytes are incomplete or hold more than one frame.
    public func decodeFrame(exactly bytes: ByteBuffer) throws(PeerTransportError) -> [PeerEnvelope] {
        var buffer = bytes
        guard let envelopes = try decodeFrame(from: &buffer) else {
            throw PeerTransportError(code: .malformedFrame, reason: "truncated frame")
        }
        guard buffer.readableBytes == 0 else {
            throw PeerTransportError(code: .malformedFrame, reason: "bytes after the frame")
        }
        return envelopes
    }

    private static func decodeBody(_ body: inout ByteBuffer) throws(PeerTransportError) -> [PeerEnvelope] {
        guard let version = body.readInteger(as: UInt8.self), version == PeerFrameFormat.version else {
            throw PeerTransportError(code: .malformedFrame, reason: "unsupported frame version")
        }
        guard let count = body.readInteger(as: UInt16.self), count > 0 else {
            throw PeerTransportError(code: .malformedFrame, reason: "frame without envelopes")
        }
        guard Int(count) * PeerFrameFormat.minimumEnvelopeBytes <= body.readableBytes else {
            throw PeerTransportError(code: .malformedFrame, reason: "truncated frame")
        }
        var envelopes: [PeerEnvelope] = []
        envelopes.reserveCapacity(Int(count))
        for _ in 0..<count {
            envelopes.append(try decodeEnvelope(&body))
        }
        guard body.readableBytes == 0 else {
            throw PeerTransportError(code: .malformedFrame, reason: "bytes after the last envelope")
        }
        return envelopes
    }

    private static func decodeEnvelope(_ body: inout ByteBuffer) throws(PeerTransportError) -> PeerEnvelope {
        let truncated = PeerTransportError(code: .malformedFrame, reason: "truncated envelope")
        guard let id = body.readInteger(as: UInt64.self),
            let nodeLength = body.readInteger(as: UInt8.self),
            nodeLength > 0,
            let nodeBytes = body.readBytes(length: Int(nodeLength))
        else { throw truncated }
        guard let nodeID = String(validating: nodeBytes, as: UTF8.self), PeerIdentity.isValidNodeID(nodeID) else {
            throw PeerTransportError(code: .malformedFrame, reason: "invalid sender node id")
        }
        guard let incarnation = body.readInteger(as: UInt64.self),
            let ringVersion = body.readInteger(as: UInt64.self),
            let kind = body.readInteger(as: UInt16.self),
            let rawFlags = body.readInteger(as: UInt8.self),
            let timeout = body.readInteger(as: UInt32.self),
            let payloadLength = body.readInteger(as: UInt32.self)
        else { throw truncated }
        let flags = PeerEnvelope.Flags(rawValue: rawFlags)
        guard flags.isValid else {
            throw PeerTransportError(code: .malformedFrame, reason: "invalid envelope flags")
        }
        guard UInt64(payloadLength) <= UInt64(body.readableBytes),
            let payload = body.readSlice(length: Int(payloadLength))
        else { throw truncated }
        return PeerEnvelope(
            id: id, sender: PeerIdentity(nodeID: nodeID, incarnation: incarnation), ringVersion: ringVersion,
            kind: kind, flags: flags, timeoutMilliseconds: timeout, payload: payload)
    }
}
