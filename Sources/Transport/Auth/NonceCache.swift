/// Nonces of recently accepted stream openings, so a captured opening cannot be replayed within the
/// timestamp skew. Bounded: the oldest entries go first, and entries older than `retention` are dropped.
struct NonceCache: Sendable {
    private var seen: Set<String> = []
    private var order: [(nonce: String, time: Int64)] = []
    private var head = 0
    let capacity: Int
    let retentionMilliseconds: Int64

    init(capacity: Int = 65_536, retentionMilliseconds: Int64 = 120_000) {
        self.capacity = capacity
        self.retentionMilliseconds = retentionMilliseconds
    }

    /// Records `nonce`; `false` if it was already seen.
    mutating func insert(_ nonce: String, now: Int64) -> Bool {
        while head < order.count, order.count - head >= capacity || order[head].time < now - retentionMilliseconds {
            seen.remove(order[head].nonce)
            head += 1
        }
        if head > 1_024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        guard seen.insert(nonce).inserted else { return false }
        order.append((nonce, now))
        return true
    }
}
