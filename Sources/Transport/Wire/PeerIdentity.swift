/// Who sent a message: a node id and the incarnation of that node's process.
///
/// A node picks a new incarnation every time it starts (e.g. its start time in milliseconds), so a receiver can
/// tell a restarted sender from a slow one: message ids are unique only within one incarnation.
public struct PeerIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The node id, as in cluster.yaml (`bourse-0`). 1 to 255 UTF-8 bytes, no `|` and no control characters.
    public var nodeID: String
    /// The incarnation of the node's process.
    public var incarnation: UInt64

    /// Creates an identity.
    /// - Parameters:
    ///   - nodeID: The node id.
    ///   - incarnation: The incarnation of the node's process.
    public init(nodeID: String, incarnation: UInt64) {
        self.nodeID = nodeID
        self.incarnation = incarnation
    }

    /// Whether `nodeID` can be carried on the wire and in the signed stream headers.
    public static func isValidNodeID(_ nodeID: String) -> Bool {
        let count = nodeID.utf8.count
        guard count > 0, count <= PeerFrameFormat.maximumNodeIDBytes else { return false }
        // Bytes below 0x80 never occur inside multi-byte UTF-8 sequences, so a byte check finds exactly the
        // scalars `|`, C0 controls and DEL.
        return nodeID.utf8.allSatisfy { byte in
            byte != UInt8(ascii: "|") && byte >= 0x20 && byte != 0x7F
        }
    }

    public var description: String { "\(nodeID)#\(incarnation)" }
}
