import NIOCore

/// Runs tasks on a NIO event loop, so the transport's per-stream tasks (readers and writers) run on the thread
/// that does the connection's I/O instead of hopping to the cooperative pool and back for every frame.
///
/// Only the transport's own short, non-blocking tasks prefer it; handler batches run on the global pool.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
