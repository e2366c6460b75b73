import CoreMetrics
import Synchronization

/// A metrics backend that keeps the values recorded by one timer (the exchange's tick-to-order latency) and
/// drops everything else.
final class LatencyCapture: MetricsFactory, Sendable {
    let label: String
    private let values = Mutex<[Int64]>([])

    init(label: String) { self.label = label }

    var count: Int { values.withLock { $0.count } }

    /// Takes every value recorded so far (nanoseconds).
    func drain() -> [Int64] {
        values.withLock { values in
            defer { values.removeAll() }
            return values
        }
    }

    func record(_ nanoseconds: Int64) { values.withLock { $0.append(nanoseconds) } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Ignored() }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Ignored()
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == self.label ? Captured(capture: self) : Ignored()
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Captured: TimerHandler, Sendable {
        init(capture: LatencyCapture) { self.capture = capture }
        let capture: LatencyCapture
        func recordNanoseconds(_ duration: Int64) { capture.record(duration) }
    }

    private final class Ignored: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        func increment(by: Int64) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
    }
}
