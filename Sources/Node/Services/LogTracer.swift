import Logging
import Synchronization
import Tracing

/// The W3C trace context of a span (https://www.w3.org/TR/trace-context/): the trace it belongs to, its own
/// id, and whether the trace is sampled (recorded).
struct TraceContext: Sendable, Hashable {
    /// 16 bytes as 32 lowercase hex digits, not all zero.
    var traceID: String
    /// 8 bytes as 16 lowercase hex digits, not all zero.
    var spanID: String
    var sampled: Bool

    /// The `traceparent` field: `00-<trace id>-<span id>-<flags>`.
    var traceparent: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }

    init(traceID: String, spanID: String, sampled: Bool) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    /// Parses a `traceparent` field; nil when it is not one (a receiver then starts a new trace).
    init?(traceparent: String) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, Self.isHex(parts[0], count: 2), parts[0] != "ff", parts[0] != "00" || parts.count == 4,
            Self.isHex(parts[1], count: 32), Self.isHex(parts[2], count: 16), Self.isHex(parts[3], count: 2),
            parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" }),
            let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        self.init(traceID: String(parts[1]), spanID: String(parts[2]), sampled: flags & 1 == 1)
    }

    private static func isHex(_ text: Substring, count: Int) -> Bool {
        text.utf8.count == count
            && text.utf8.allSatisfy {
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            }
    }

    /// `byteCount` random bytes as lowercase hex, never all zero.
    static func randomID(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            var text = ""
            for _ in 0..<(byteCount / 8) {
                let word = String(generator.next() as UInt64, radix: 16)
                text += String(repeating: "0", count: 16 - word.count) + word
            }
            if text.contains(where: { $0 != "0" }) { return text }
        }
    }
}

/// Where a span's trace context is kept in an `InstrumentationContext`.
enum TraceContextKey: InstrumentationContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "bourse.trace-context" }
}

extension InstrumentationContext {
    /// The trace context of the current span, or of the remote parent taken from a request.
    var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}

/// A tracer that writes every finished span of a sampled trace as one structured log line (`msg: span`,
/// logger `bourse.trace`) with its trace id, span id, parent span id, kind, duration and attributes, and that
/// propagates the W3C `traceparent` field. Spans of one request on several nodes share the trace id, so the
/// JSON logs of the nodes join into one trace (for example with `jq`); an OpenTelemetry collector can read
/// them too. Bootstrapped by `bourse start` when `node.tracing` is `log`.
struct LogTracer: Tracer {
    typealias Span = LogSpan

    let logger: Logger
    /// Fraction of new traces recorded (0…1); a request that arrives with a `traceparent` keeps its flag.
    let sampleRatio: Double

    init(logger: Logger, sampleRatio: Double = 1) {
        self.logger = logger
        self.sampleRatio = min(1, max(0, sampleRatio))
    }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> LogSpan {
        var context = context()
        let parent = context.traceContext
        let trace = TraceContext(
            traceID: parent?.traceID ?? TraceContext.randomID(byteCount: 16),
            spanID: TraceContext.randomID(byteCount: 8),
            sampled: parent?.sampled ?? (sampleRatio >= 1 || Double.random(in: 0..<1) < sampleRatio))
        context.traceContext = trace
        return LogSpan(
            operationName: operationName, context: context, trace: trace, parentSpanID: parent?.spanID, kind: kind,
            startNanoseconds: instant().nanosecondsSinceEpoch, logger: logger)
    }

    func forceFlush() {}

    func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let field = extractor.extract(key: "traceparent", from: carrier),
            let remote = TraceContext(traceparent: field)
        else { return }
        context.traceContext = remote
    }

    func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let trace = context.traceContext else { return }
        injector.inject(trace.traceparent, forKey: "traceparent", into: &carrier)
    }
}

/// A span of ``LogTracer``: logged once, when it ends, if its trace is sampled.
final class LogSpan: Tracing.Span {
    let context: InstrumentationContext
    let trace: TraceContext
    let parentSpanID: String?
    let kind: SpanKind
    let startNanoseconds: UInt64
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var operationName: String
        var attributes: SpanAttributes = [:]
        var status: SpanStatus?
        var errors: [String] = []
        var ended = false
    }

    init(
        operationName: String, context: InstrumentationContext, trace: TraceContext, parentSpanID: String?,
        kind: SpanKind, startNanoseconds: UInt64, logger: Logger
    ) {
        self.context = context
        self.trace = trace
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanoseconds = startNanoseconds
        self.logger = logger
        self.state = Mutex(State(operationName: operationName))
    }

    var operationName: String {
        get { state.withLock { $0.operationName } }
        set { state.withLock { $0.operationName = newValue } }
    }

    var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }

    var isRecording: Bool { trace.sampled && !state.withLock { $0.ended } }

    func setStatus(_ status: SpanStatus) { state.withLock { $0.status = status } }

    func addEvent(_ event: SpanEvent) {}

    func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        state.withLock { $0.errors.append("\(type(of: error))") }
    }

    func addLink(_ link: SpanLink) {}

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard
            let ended = state.withLock({ state -> State? in
                guard !state.ended else { return nil }
                state.ended = true
                return state
            }), trace.sampled
        else { return }
        let end = instant().nanosecondsSinceEpoch
        var metadata: Logger.Metadata = [
            "trace_id": .string(trace.traceID), "span_id": .string(trace.spanID), "span": .string(ended.operationName),
            "kind": .string("\(kind)"),
            "duration_us": .string("\((end >= startNanoseconds ? end - startNanoseconds : 0) / 1_000)"),
            "start_unix_us": .string("\(startNanoseconds / 1_000)"),
        ]
        if let parentSpanID { metadata["parent_span_id"] = .string(parentSpanID) }
        if let status = ended.status { metadata["status"] = .string("\(status.code)") }
        if !ended.errors.isEmpty { metadata["errors"] = .string(ended.errors.joined(separator: ",")) }
        ended.attributes.forEach { name, value in
            let text = Self.render(value)
            // The request's id (`X-Request-Id`, recorded by the server span; set on the forwarding span) gets the
            // field name every other log line of the request uses.
            if Self.requestIDAttributes.contains(name) { metadata["request_id"] = .string(text) }
            metadata["attr.\(name)"] = .string(text)
        }
        logger.info("span", metadata: metadata)
    }

    /// Attributes that hold the request's id.
    static let requestIDAttributes: Set<String> = [
        "http.request.header.x_request_id", "http.response.header.x_request_id", "bourse.request_id",
    ]

    private static func render(_ attribute: SpanAttribute) -> String {
        switch attribute {
        case .int32(let value): "\(value)"
        case .int64(let value): "\(value)"
        case .double(let value): "\(value)"
        case .bool(let value): "\(value)"
        case .string(let value): value
        case .stringConvertible(let value): "\(value)"
        default: "\(attribute)"
        }
    }
}
