import Trading

extension ShardAssignment {
    /// The first bytes of an encoded assignment: `BSA` and the format version 1.
    static let codingMagic: [UInt8] = [0x42, 0x53, 0x41, 0x01]
    /// The owner of a shard when there are no members.
    static let noOwner = UInt32.max

    /// The assignment as bytes, to store with its membership version: the magic `BSA\u{1}`, the version,
    /// the members and the shards in canonical order (`BinaryWriter` strings), then each shard's owner as a
    /// `UInt32` position among the members (`0xFFFF_FFFF`: none). The same assignment always gives the same
    /// bytes.
    public func encoded() -> [UInt8] {
        let names =
            memberIDs.names.reduce(0) { $0 + $1.utf8.count + 8 } + shardIDs.names.reduce(0) { $0 + $1.utf8.count + 8 }
        var writer = BinaryWriter(reservingCapacity: 28 + names + 4 * owners.count)
        writer.writeRaw(Self.codingMagic)
        writer.write(version)
        writer.writeCount(memberIDs.count)
        for member in memberIDs.names { writer.write(member) }
        writer.writeCount(shardIDs.count)
        for shard in shardIDs.names { writer.write(shard) }
        for owner in owners { writer.write(owner < 0 ? Self.noOwner : UInt32(owner)) }
        return writer.bytes
    }

    /// Decodes `encoded()`'s bytes.
    ///
    /// - Throws: `BourseError` (`VALIDATION_ERROR`) for anything `encoded()` cannot have written: a wrong
    ///   magic, truncated or trailing bytes, invalid UTF-8, members or shards out of canonical order or
    ///   repeated, an owner out of range, or a shard without an owner while there are members.
    public init(decoding bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        guard try reader.readRaw(count: Self.codingMagic.count) == Self.codingMagic else {
            throw BourseError.validation("not an encoded shard assignment (bad magic)")
        }
        let version = try reader.readUInt64()
        let members = try Self.readCanonicalIDs(&reader, "members")
        let shards = try Self.readCanonicalIDs(&reader, "shards")
        var owners: [Int32] = []
        owners.reserveCapacity(min(shards.count, reader.remaining / 4))
        for index in 0..<shards.count {
            let owner = try reader.readUInt32()
            if owner == Self.noOwner {
                guard members.count == 0 else {
                    throw BourseError.validation("shard \(index) of the assignment has no owner")
                }
                owners.append(-1)
            } else {
                guard owner < UInt32(members.count) else {
                    throw BourseError.validation("shard \(index) of the assignment has owner \(owner) out of range")
                }
                owners.append(Int32(owner))
            }
        }
        try reader.expectEnd()
        self.init(version: version, members: members, shards: shards, owners: owners)
    }

    /// A count and that many strings, which must already be in canonical order without repeats (as
    /// `encoded()` writes them): otherwise the owner positions would refer to other names.
    private static func readCanonicalIDs(_ reader: inout BinaryReader, _ what: String) throws(BourseError)
        -> CanonicalIDs
    {
        let count = try reader.readCount(minimumElementSize: 8)
        var names: [String] = []
        names.reserveCapacity(count)
        for _ in 0..<count { names.append(try reader.readString()) }
        let ids = CanonicalIDs(names)
        guard ids.names == names else {
            throw BourseError.validation("the assignment's \(what) are repeated or not in canonical order")
        }
        return ids
    }
}
