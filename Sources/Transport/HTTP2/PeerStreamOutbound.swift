import NIOCore
import NIOHPACK

/// What the async side of a peer stream writes.
enum PeerStreamOutbound: Sendable {
    /// A HEADERS frame.
    case head(HPACKHeaders, endStream: Bool)
    /// Encoded frames (see ``PeerFrameEncoder``).
    case frames(ByteBuffer)
    /// END_STREAM on an empty DATA frame.
    case end
}
