/// The lines of a recording, read from the start each time.
protocol ReplaySource: Sendable {
    /// Calls `body` with every line in order, without its terminator (`\n` or `\r\n`); `nil` stands for a line
    /// that could not be read (longer than the source's limit).
    func forEachLine(_ body: (String?) async throws -> Void) async throws
}

/// A recording held in memory, such as the bundled sample.
struct TextReplaySource: ReplaySource {
    let text: String

    func forEachLine(_ body: (String?) async throws -> Void) async throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            try await body(String(line.hasSuffix("\r") ? line.dropLast() : line))
        }
    }
}
