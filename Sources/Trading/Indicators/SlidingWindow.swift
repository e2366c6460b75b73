/// The last `capacity` values in a ring buffer: push in O(1), reading the value that leaves next.
struct SlidingWindow: Sendable {
    private var storage: [Double]
    /// Where the next value goes, which is also where the oldest value is once the window is full.
    private var next = 0
    private(set) var count = 0

    init(capacity: Int) {
        storage = [Double](repeating: 0, count: capacity)
    }

    var capacity: Int { storage.count }
    var isFull: Bool { count == storage.count }

    /// The oldest value held (the one the next push replaces once the window is full).
    var oldest: Double { isFull ? storage[next] : storage[0] }

    /// Adds `value`; once the window is full, returns the value it replaced.
    @discardableResult
    mutating func push(_ value: Double) -> Double? {
        let evicted: Double? = isFull ? storage[next] : nil
        storage[next] = value
        next += 1
        if next == storage.count { next = 0 }
        if count < storage.count { count += 1 }
        return evicted
    }
}
