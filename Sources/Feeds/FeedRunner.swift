import Foundation
import Logging
import Trading

/// Runs one reference feed: connects (or opens the recording), reads, normalizes into ``ReferenceTick``s and hands
/// them to a callback in order.
///
/// WebSocket feeds reconnect after any failure or close, waiting ``Backoff/delay(attempt:random:)``; the attempt
/// count starts again after a connection that delivered at least one good message. A message that does not parse is
/// logged and skipped; an error reply from the exchange (say, a refused subscription) ends the connection, which is
/// then retried with backoff. Replay and sample feeds read and pace on the injected clock.
///
/// ```swift
/// let runner = FeedRunner(configuration: .sample(symbol: "BTC-USD", speed: 1), logger: logger)
/// try await runner.run { tick in await book.observe(tick) }
/// ```
public struct FeedRunner: Sendable {
    /// Where the ticks come from.
    public let configuration: FeedConfiguration
    /// Delays between reconnects.
    public let backoff: Backoff
    let logger: Logger
    let clock: any Clock<Duration>
    /// The largest WebSocket message (and frame) accepted.
    var maxMessageBytes = 1 << 20
    /// A connection that receives nothing (not even a ping) for this long is replaced.
    var idleTimeout: Duration = .seconds(120)

    /// Creates a runner on the continuous clock.
    public init(configuration: FeedConfiguration, logger: Logger, backoff: Backoff = .init()) {
        self.init(configuration: configuration, logger: logger, backoff: backoff, clock: ContinuousClock())
    }

    /// Creates a runner whose waits (replay pacing, reconnect backoff) run on `clock`.
    public init(
        configuration: FeedConfiguration, logger: Logger, backoff: Backoff = .init(), clock: any Clock<Duration>
    ) {
        self.configuration = configuration
        self.backoff = backoff
        self.clock = clock
        var logger = logger
        logger[metadataKey: "feed"] = "\(configuration.source)"
        self.logger = logger
    }

    /// Runs until the task is cancelled (then returns normally), calling `onTick` for every tick in order and
    /// awaiting it (back-pressure). A replay without `loop` returns at the end of the file.
    ///
    /// - Throws: `BourseError` with code `VALIDATION_ERROR` for a bad configuration (URL, symbol, speed, unknown
    ///   sample) or a recording that cannot be opened or has no valid line.
    public func run(onTick: @escaping @Sendable (ReferenceTick) async -> Void) async throws {
        do {
            switch configuration {
            case .binance(let url, let symbol, let streams):
                let feed = try WebSocketFeed.binance(url: url, symbol: symbol, streams: streams)
                try await runWebSocket(feed, logger: logger.with("symbol", symbol), onTick: onTick)
            case .coinbase(let url, let productID, let channels):
                let feed = try WebSocketFeed.coinbase(url: url, productID: productID, channels: channels)
                try await runWebSocket(feed, logger: logger.with("symbol", productID), onTick: onTick)
            case .replay(let path, let speed, let loop):
                let source = FileReplaySource(path: path)
                try await ReplayPlayer(source: source, speed: speed, loop: loop, clock: clock, logger: logger)
                    .run(onTick: onTick)
            case .sample(let symbol, let speed):
                guard let text = DemoSample.jsonl(for: symbol) else {
                    throw BourseError.validation("no bundled sample for \(symbol); there are \(DemoSample.symbols)")
                }
                let source = TextReplaySource(text: text)
                try await ReplayPlayer(
                    source: source, speed: speed, loop: true, clock: clock, logger: logger.with("symbol", symbol)
                ).run(onTick: onTick)
            }
        } catch {
            if Task.isCancelled { return }
            throw error
        }
    }

    /// Wall-clock time in ms since the epoch, the receive time of messages that carry none.
    static func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down))
    }
}

extension Logger {
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = "\(value)"
        return copy
    }
}
