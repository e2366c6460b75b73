import Trading

/// Users activated on demand and passivated when idle (design.md, "Shards and ownership").
///
/// A passivated user is kept as the bytes of its part of the shard's snapshot (`encode`), not as objects:
/// its orders, history rows and fills cost a fraction of the memory, and the shard's snapshot copies the
/// bytes as they are. Anything that reads or changes a user activates it first (decodes it back), so a
/// passivated user behaves exactly as an active one; the snapshot is the same byte for byte either way.
/// Which users are passivated is not part of the state that commands change: replay and snapshots ignore it.
extension AccountShardState {
    /// Makes `user` active (decoding it if it was passivated) and notes it as used since the last sweep.
    public mutating func activate(_ user: UserID) {
        recentlyUsed.insert(user)
        guard !passive.isEmpty, let bytes = passive.removeValue(forKey: user) else { return }
        users[user] = Self.decodePassive(user, bytes)
    }

    /// Activates every user `command` can read or change.
    public mutating func activate(for command: Command) {
        command.forEachSubject(user: { activate($0) }, order: { activateOwner(of: $0) })
    }

    private mutating func activateOwner(of order: OrderID) {
        guard OrderIDs.shard(of: order) == index, let owner = orderOwners[order] else { return }
        activate(owner)
    }

    /// Passivates the active users not used since the previous sweep, at most `limit` of them; once no idle
    /// user is left, starts a new period (`done`). A user with an order its book has not answered for yet
    /// stays active (recovery abandons such orders among the active users). An actor calls this in slices,
    /// so that encoding many users never holds up its commands for long.
    @discardableResult
    public mutating func passivateIdle(limit: Int = .max) -> (passivated: Int, done: Bool) {
        var idle: [UserID] = []
        for (user, account) in users where !recentlyUsed.contains(user) {
            if account.orders.values.contains(where: { !$0.acknowledged && $0.view.status.isOpen }) { continue }
            idle.append(user)
            if idle.count > limit { break }
        }
        let done = idle.count <= limit
        if !done { idle.removeLast() }
        for user in idle {
            guard let account = users.removeValue(forKey: user) else { continue }
            var writer = BinaryWriter(reservingCapacity: 4_096)
            Self.encode(account, into: &writer)
            // The writer's buffer grew by doubling: keep an exact copy instead of up to twice the bytes.
            let encoded = writer.bytes
            passive[user] = [UInt8](unsafeUninitializedCapacity: encoded.count) { buffer, count in
                count = buffer.initialize(fromContentsOf: encoded)
            }
        }
        if done { recentlyUsed.removeAll(keepingCapacity: true) }
        return (idle.count, done)
    }

    /// Every user of the shard, active or passivated, by id; passivated users are decoded for `body` and
    /// stay passivated.
    public func forEachAccount(_ body: (UserID, UserAccount) -> Void) {
        for user in userIDs.sorted() {
            if let account = users[user] {
                body(user, account)
            } else if let bytes = passive[user] {
                body(user, Self.decodePassive(user, bytes))
            }
        }
    }

    /// Every user of the shard, active or passivated, in no particular order.
    public var userIDs: [UserID] { Array(users.keys) + Array(passive.keys) }

    /// How many users the shard holds, active or passivated.
    public var userCount: Int { users.count + passive.count }

    /// Bytes kept for the passivated users.
    public var passiveBytes: Int { passive.values.reduce(0) { $0 + $1.count } }

    /// A passivated user's state. The bytes were encoded by this process from a valid account, so failing to
    /// decode them means memory is corrupt: stop rather than serve a wrong balance (the journal is intact).
    static func decodePassive(_ user: UserID, _ bytes: [UInt8]) -> UserAccount {
        var reader = BinaryReader(bytes)
        do {
            let account = try decodeAccount(user, from: &reader)
            try reader.expectEnd()
            return account
        } catch {
            fatalError("passivated account \(user) does not decode: \(error)")
        }
    }
}
