import Trading

/// The orders of one account shard that no book has answered yet, oldest first.
///
/// A book answers an order with its first event (accepted, rejected, a trade); the shard gives an order up
/// when it abandons it. Everything at or below `settledThrough` is answered or given up, and the watermark
/// travels with each new order to its book, so that the books need not remember those ids to refuse placing
/// one twice (`PlacementLog`): a place sent again after a lost answer or a move is recognised by its id.
struct UnansweredOrders: Sendable {
    /// Ids in the order they were added (ascending: a shard's ids grow), answered ones skipped from `head`.
    private var added: [OrderID] = []
    private var head = 0
    private var open: Set<OrderID> = []

    var isEmpty: Bool { open.isEmpty }
    /// The unanswered ids, oldest first.
    var ids: [OrderID] { added[head...].filter { open.contains($0) } }
    var count: Int { open.count }

    /// A new order of the shard; ids must come in ascending order.
    mutating func add(_ id: OrderID) {
        precondition(added.last.map { $0 < id } ?? true, "order ids of a shard ascend")
        added.append(id)
        open.insert(id)
    }

    /// The book answered the order, or the shard gave it up.
    mutating func answer(_ id: OrderID) {
        guard open.remove(id) != nil else { return }
        while head < added.count, !open.contains(added[head]) { head += 1 }
        if head == added.count {
            added.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1_024, head * 2 >= added.count {
            added.removeFirst(head)
            head = 0
        }
    }

    /// The highest id at or below which every order of the shard is answered or given up; `latest` is the
    /// shard's last id (all are, when nothing waits).
    func settledThrough(latest: OrderID) -> OrderID { head < added.count ? added[head] - 1 : latest }
}
