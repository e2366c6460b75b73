import Logging
import Trading

/// Plays a recording: reads its lines, turns them into ticks, and paces them by the gaps between their timestamps
/// divided by `speed`, on an injected clock. Ticks keep their recorded times.
///
/// Bad lines are skipped with a log (the first ten of the first lap, then a count); a recording without any valid
/// line is an error. With `loop`, the recording restarts from its first line after one average gap (1 s when all
/// its ticks share one time).
struct ReplayPlayer: Sendable {
    var source: any ReplaySource
    var speed: Double
    var loop: Bool
    var clock: any Clock<Duration>
    var logger: Logger

    /// Plays until the end (or forever with `loop`); throws for a bad configuration or an unusable recording.
    func run(onTick: @Sendable (ReferenceTick) async -> Void) async throws {
        guard speed.isFinite, speed > 0 else { throw BourseError.validation("replay speed must be a positive number") }
        var lap = 0
        var gapBeforeLap: Duration = .zero
        repeat {
            let played = try await playLap(number: lap, gapBefore: gapBeforeLap, onTick: onTick)
            // One average gap before the next lap; 1 s when the recording has none, so a loop never spins.
            let average = played.count > 1 ? (played.last - played.first) / Int64(played.count - 1) : 0
            gapBeforeLap = pace(milliseconds: average > 0 ? average : 1_000)
            lap += 1
        } while loop && !Task.isCancelled
    }

    private struct Lap {
        var count = 0
        var first: Int64 = 0
        var last: Int64 = 0
    }

    private func playLap(number: Int, gapBefore: Duration, onTick: @Sendable (ReferenceTick) async -> Void)
        async throws -> Lap
    {
        var parser = ReplayLineParser()
        var lap = Lap()
        var lineNumber = 0
        var skipped = 0
        try await source.forEachLine { line in
            lineNumber += 1
            let ticks: [ReferenceTick]
            do throws(BourseError) {
                ticks = try parser.ticks(in: line)
            } catch {
                guard parser.isReady else { throw error }
                skipped += 1
                if number == 0, skipped <= 10 {
                    logger.warning(
                        "skipping a bad line of the recording",
                        metadata: ["line": "\(lineNumber)", "error": "\(error.message)"])
                }
                return
            }
            for tick in ticks {
                if lap.count == 0 {
                    if gapBefore > .zero { try await clock.sleep(for: gapBefore) }
                    lap.first = tick.timestampMillis
                } else if tick.timestampMillis > lap.last {
                    try await clock.sleep(for: pace(milliseconds: tick.timestampMillis - lap.last))
                }
                // Pace from the latest time seen, so one out-of-order line does not replay a gap twice.
                lap.last = lap.count == 0 ? tick.timestampMillis : max(lap.last, tick.timestampMillis)
                lap.count += 1
                await onTick(tick)
            }
        }
        if number == 0, skipped > 0 {
            logger.warning("skipped bad lines of the recording", metadata: ["count": "\(skipped)"])
        }
        guard lap.count > 0 else { throw BourseError.validation("the recording has no valid line") }
        return lap
    }

    /// A recorded gap at this player's speed.
    func pace(milliseconds: Int64) -> Duration {
        .milliseconds(milliseconds) / speed
    }
}
