import CoreMetrics
import Synchronization

/// A metrics backend that keeps the values recorded by a few timers (the exchange's tick-to-signal and
/// tick-to-order latencies) and drops everything else.
final class LatencyCapture: MetricsFactory, Sendable {
    let labels: Set<String>
    private let values = Mutex<[String: [Int64]]>([:])

    init(labels: Set<String>) { self.labels = labels }

    func count(_ label: String) -> Int { values.withLock { $0[label]?.count ?? 0 } }

    /// Takes every value of `label` recorded so far (nanoseconds).
    func drain(_ label: String) -> [Int64] {
        values.withLock { values in
            defer { values[label] = [] }
            return values[label] ?? []
        }
    }

    func record(_ nanoseconds: Int64, label: String) { values.withLock { $0[label, default: []].append(nanoseconds) } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Ignored() }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Ignored()
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        labels.contains(label) ? Captured(capture: self, label: label) : Ignored()
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Captured: TimerHandler, Sendable {
        init(capture: LatencyCapture, label: String) {
            self.capture = capture
            self.label = label
        }
        let capture: LatencyCapture
        let label: String
        func recordNanoseconds(_ duration: Int64) { capture.record(duration, label: label) }
    }

    private final class Ignored: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        func increment(by: Int64) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
    }
}
