import NIOHPACK

/// What the async side of a peer stream reads: the head, whole decoded frames, and the end.
enum PeerStreamInbound: Sendable {
    /// Request head (server) or response head (client).
    case head(HPACKHeaders)
    /// One decoded frame.
    case frame([PeerEnvelope])
    /// The peer ended its side of the stream, or the server is quiescing.
    case end
}
