import Dispatch

/// The outcome of `operation`, run from synchronous code (libFuzzer's entry point).
///
/// The task starts at once on the calling thread; the parsers' market lookups in these harnesses never suspend,
/// so the wait returns at once too.
func runBlocking<Success: Sendable>(
    _ operation: @escaping @Sendable () async throws -> Success
) -> Result<Success, any Error> {
    let outcome = Outcome<Success>()
    Task.immediate {
        do {
            outcome.result = .success(try await operation())
        } catch {
            outcome.result = .failure(error)
        }
        outcome.done.signal()
    }
    outcome.done.wait()
    return outcome.result!
}

/// Written by the task before it signals, read by the caller after the wait.
private final class Outcome<Success: Sendable>: @unchecked Sendable {
    var result: Result<Success, any Error>?
    let done = DispatchSemaphore(value: 0)
}
