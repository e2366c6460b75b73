/// Checks `condition` every `interval` until it holds, `timeout` has passed or the task is cancelled; how long it
/// took to hold, nil if it did not (it is checked once more at the deadline).
///
/// For tests that wait for what other tasks, threads or processes do, instead of sleeping for a guessed time: the
/// timeout is what the slowest CI machine running the whole suite may need, not what the wait should take.
public func waitUntil(
    within timeout: Duration, every interval: Duration = .milliseconds(10), _ condition: () async throws -> Bool
) async rethrows -> Duration? {
    let start = ContinuousClock.now
    while true {
        let deadlinePassed = ContinuousClock.now - start >= timeout
        if try await condition() { return ContinuousClock.now - start }
        if deadlinePassed || Task.isCancelled { return nil }
        try? await Task.sleep(for: interval)
    }
}

/// Whether `condition` held within `timeout` (see `waitUntil(within:every:_:)`).
public func eventually(
    within timeout: Duration, every interval: Duration = .milliseconds(10), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    try await waitUntil(within: timeout, every: interval, condition) != nil
}
