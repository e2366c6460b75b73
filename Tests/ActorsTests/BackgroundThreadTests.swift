import Foundation
import Synchronization
import Testing

@testable import Actors

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct BackgroundThreadTests {
    /// Every job runs, all on the worker's one thread (not the caller's), and its result comes back.
    @Test func jobsRunOnTheirOwnThread() async throws {
        let worker = BackgroundThread(name: "test-background", nice: 5)
        let log = JobLog()
        await withTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    await worker.run {
                        log.order.withLock { $0.append(index) }
                        _ = log.threads.withLock { $0.insert(threadID()) }
                        return index * 2
                    }
                }
            }
            var results: [Int] = []
            for await result in group { results.append(result) }
            #expect(results.sorted() == (0..<20).map { $0 * 2 })
        }
        #expect(log.order.withLock { $0.count } == 20)
        let threads = log.threads.withLock { $0 }
        #expect(threads.count == 1)
        #expect(!threads.contains(threadID()))
    }

    #if os(Linux)
        /// The snapshot thread runs at a lower priority than the threads of the concurrency runtime.
        @Test func theSnapshotThreadIsNicer() async throws {
            let callers = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            let its = await BackgroundThread.snapshots.run {
                getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            }
            #expect(its == min(19, callers + 10))
        }
    #endif
}

private final class JobLog: Sendable {
    let order = Mutex<[Int]>([])
    let threads = Mutex<Set<String>>([])
}

/// The calling thread's identity: its kernel task path on Linux (`<pid>/task/<tid>`), else Foundation's thread.
private func threadID() -> String {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self") { return path }
    return "\(Unmanaged.passUnretained(Thread.current).toOpaque())"
}
