import Feeds
import Synchronization

/// Ticks from a feed waiting for the exchange: the feed appends without waiting, the pump takes everything
/// that arrived while it journaled the previous batch (one record per batch). Bounded: when the exchange
/// falls far behind, the oldest ticks are dropped (newer prices supersede them).
final class TickBuffer: Sendable {
    static let capacity = 10_000
    private let pending = Mutex<[ReferenceTick]>([])
    private let dropped = Atomic<Int>(0)
    let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init() {
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func append(_ tick: ReferenceTick) {
        let overflow = pending.withLock { pending -> Int in
            pending.append(tick)
            guard pending.count > Self.capacity else { return 0 }
            let excess = pending.count - Self.capacity / 2
            pending.removeFirst(excess)
            return excess
        }
        if overflow > 0 { dropped.add(overflow, ordering: .relaxed) }
        wake.yield()
    }

    /// Everything appended since the last call, oldest first.
    func take() -> [ReferenceTick] {
        pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
    }

    /// Ticks dropped so far because the buffer was full.
    var droppedCount: Int { dropped.load(ordering: .relaxed) }

    func finish() { wake.finish() }
}
