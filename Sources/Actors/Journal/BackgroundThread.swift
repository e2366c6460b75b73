import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One thread of its own, at a lower scheduling priority than the node's other threads, for CPU-heavy work
/// nothing waits on urgently: encoding the periodic snapshots. A long history's snapshot takes tens of
/// milliseconds to encode; on one of the concurrency runtime's few threads (one per core) that halved what
/// the actors could run meanwhile, and every order of the node waited in bursts. Here the kernel gives the
/// encoding what CPU the node's other threads leave.
///
/// Jobs run one at a time in the order they were handed over.
final class BackgroundThread: Sendable {
    /// The node's thread for periodic snapshot encoding.
    static let snapshots = BackgroundThread(name: "bourse-snapshot", nice: 10)

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let available = DispatchSemaphore(value: 0)

    /// Starts the thread (it lives as long as the process).
    /// - Parameter nice: added to the thread's nice value (Linux: the calling thread's own priority).
    init(name: String, nice: Int32) {
        Thread { [self] in loop(name: name, nice: nice) }.start()
    }

    private func loop(name: String, nice: Int32) -> Never {
        Thread.current.name = name
        #if os(Linux)
            // `who` 0 is the calling thread on Linux; raising one's own nice value needs no privilege.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
        #endif
        while true {
            available.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job()
        }
    }

    /// Runs `work` on the thread and returns its result.
    func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
            jobs.withLock { $0.append { continuation.resume(returning: work()) } }
            available.signal()
        }
    }
}
