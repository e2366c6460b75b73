import NIOCore

/// Runs tasks on a NIO event loop, so the transport's per-stream tasks (readers and writers) run on the thread
/// that does the connection's I/O instead of hopping to the cooperative pool and back for every frame.
///
/// Only short, non-blocking tasks should prefer it: the transport's own, and the node's liveness work
/// (membership heartbeats and probes, lease renewals), which must keep its pace while the cooperative pool
/// is busy; handler batches run on the global pool.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
