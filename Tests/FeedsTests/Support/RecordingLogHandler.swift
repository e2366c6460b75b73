import Logging
import Synchronization

/// Keeps the messages logged through it, so tests can check that something was (or was not) logged.
struct RecordingLogHandler: LogHandler {
    final class Store: Sendable {
        let entries = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])

        var messages: [String] { entries.withLock { $0.map(\.message) } }

        func count(of message: String) -> Int {
            entries.withLock { $0.filter { $0.message == message }.count }
        }

        func metadata(of message: String) -> [Logger.Metadata] {
            entries.withLock { $0.filter { $0.message == message }.map(\.metadata) }
        }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        store.entries.withLock { $0.append((event.level, "\(event.message)", merged)) }
    }

    /// A logger that records into a new store.
    static func logger() -> (Logger, Store) {
        let store = Store()
        return (Logger(label: "feeds-test") { _ in RecordingLogHandler(store: store) }, store)
    }
}
