public import NIOCore

/// Writes envelopes as frames (see ``PeerFrameFormat``).
///
/// Many envelopes become one frame; the encoder starts a new frame only when the next envelope would take the
/// body past ``maximumFrameBytes`` or past 65,535 envelopes.
public struct PeerFrameEncoder: Sendable {
    /// Upper bound on a frame body, in bytes.
    public var maximumFrameBytes: Int

    /// Creates an encoder.
    /// - Parameter maximumFrameBytes: Upper bound on a frame body; the receiver's decoder must accept it.
    public init(maximumFrameBytes: Int = PeerFrameFormat.defaultMaximumFrameBytes) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// Whether `envelope` fits in a frame on its own and its node id can go on the wire.
    public func check(_ envelope: PeerEnvelope) throws(PeerTransportError) {
        guard PeerIdentity.isValidNodeID(envelope.sender.nodeID) else {
            throw PeerTransportError(code: .invalidArgument, reason: "invalid sender node id")
        }
        guard envelope.payload.readableBytes <= Int(UInt32.max),
            PeerFrameFormat.bodyHeaderBytes + PeerFrameFormat.encodedSize(of: envelope) <= maximumFrameBytes
        else {
            throw PeerTransportError(code: .messageTooLarge, reason: "message larger than the frame limit")
        }
    }

    /// Appends `envelopes` to `buffer` as one or more frames.
    ///
    /// Checks every envelope first, so on error nothing has been written.
    /// - Returns: The number of frames written (0 for no envelopes).
    @discardableResult
    public func encode(_ envelopes: some Collection<PeerEnvelope>, into buffer: inout ByteBuffer)
        throws(PeerTransportError)
        -> Int
    {
        for envelope in envelopes { try check(envelope) }
        var frames = 0
        var lengthIndex = 0
        var countIndex = 0
        var bodyBytes = 0
        var count = 0
        for envelope in envelopes {
            let size = PeerFrameFormat.encodedSize(of: envelope)
            if count > 0, bodyBytes + size > maximumFrameBytes || count == PeerFrameFormat.maximumEnvelopesPerFrame {
                Self.close(
                    &buffer, lengthIndex: lengthIndex, countIndex: countIndex, bodyBytes: bodyBytes, count: count)
                count = 0
            }
            if count == 0 {
                frames += 1
                lengthIndex = buffer.writerIndex
                buffer.writeInteger(UInt32(0))
                buffer.writeInteger(PeerFrameFormat.version)
                countIndex = buffer.writerIndex
                buffer.writeInteger(UInt16(0))
                bodyBytes = PeerFrameFormat.bodyHeaderBytes
            }
            Self.write(envelope, into: &buffer)
            bodyBytes += size
            count += 1
        }
        if count > 0 {
            Self.close(&buffer, lengthIndex: lengthIndex, countIndex: countIndex, bodyBytes: bodyBytes, count: count)
        }
        return frames
    }

    private static func close(_ buffer: inout ByteBuffer, lengthIndex: Int, countIndex: Int, bodyBytes: Int, count: Int)
    {
        buffer.setInteger(UInt32(bodyBytes), at: lengthIndex)
        buffer.setInteger(UInt16(count), at: countIndex)
    }

    private static func write(_ envelope: PeerEnvelope, into buffer: inout ByteBuffer) {
        buffer.writeInteger(envelope.id)
        buffer.writeInteger(UInt8(envelope.sender.nodeID.utf8.count))
        buffer.writeString(envelope.sender.nodeID)
        buffer.writeInteger(envelope.sender.incarnation)
        buffer.writeInteger(envelope.ringVersion)
        buffer.writeInteger(envelope.kind)
        buffer.writeInteger(envelope.flags.rawValue)
        buffer.writeInteger(envelope.timeoutMilliseconds)
        buffer.writeInteger(UInt32(envelope.payload.readableBytes))
        buffer.writeImmutableBuffer(envelope.payload)
    }
}
