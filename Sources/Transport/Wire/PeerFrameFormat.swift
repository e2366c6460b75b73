/// Constants of the binary wire format.
///
/// A stream carries a sequence of frames. All integers are big-endian.
///
/// ```
/// frame    = length:u32  body                      ; length = byte count of body
/// body     = version:u8 (=1)  count:u16 (>=1)  envelope{count}
/// envelope = id:u64  nodeLength:u8  nodeID:utf8{nodeLength}  incarnation:u64  ringVersion:u64
///            kind:u16  flags:u8  timeoutMilliseconds:u32  payloadLength:u32  payload{payloadLength}
/// ```
///
/// The deadline travels as the time remaining when the frame was written (`timeoutMilliseconds`), so nodes
/// need not agree on the time of day; replies carry 0.
public enum PeerFrameFormat {
    /// The only version this build speaks.
    public static let version: UInt8 = 1
    /// The length prefix in front of each frame body.
    public static let lengthPrefixBytes = 4
    /// Version and envelope count at the start of a body.
    public static let bodyHeaderBytes = 3
    /// Bytes of an envelope besides its node id and payload.
    public static let envelopeFixedBytes = 8 + 1 + 8 + 8 + 2 + 1 + 4 + 4
    /// The smallest possible envelope (one-byte node id, empty payload).
    public static let minimumEnvelopeBytes = envelopeFixedBytes + 1
    /// The longest node id, in UTF-8 bytes.
    public static let maximumNodeIDBytes = 255
    /// The most envelopes in one frame.
    public static let maximumEnvelopesPerFrame = Int(UInt16.max)
    /// Default bound on a frame body: 4 MiB.
    public static let defaultMaximumFrameBytes = 4 << 20

    /// Bytes `envelope` takes on the wire.
    public static func encodedSize(of envelope: PeerEnvelope) -> Int {
        envelopeFixedBytes + envelope.sender.nodeID.utf8.count + envelope.payload.readableBytes
    }
}
