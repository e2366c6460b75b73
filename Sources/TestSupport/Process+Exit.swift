import Foundation

extension Process {
    /// Runs the process and waits for it to exit without holding a thread of Swift's concurrency pool, as
    /// `waitUntilExit()` does: the pool has as many threads as the machine has cores, and a test run whose
    /// tests wait for child processes that way stalls every other test's task meanwhile (a 10 ms sleep was
    /// resumed after 22 s in one CI run). Its termination status.
    /// - Throws: what `run()` throws when the process cannot start.
    public func runToExit() async throws -> Int32 {
        try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Int32, any Error>) in
            terminationHandler = { process in exited.resume(returning: process.terminationStatus) }
            do {
                try run()
            } catch {
                terminationHandler = nil
                exited.resume(throwing: error)
            }
        }
    }
}
