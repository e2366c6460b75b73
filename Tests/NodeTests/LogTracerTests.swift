import Logging
import Synchronization
import Testing
import Tracing

@testable import Node

@Suite("Tracing: W3C trace context and spans as log lines")
struct LogTracerTests {
    /// Log events kept in memory.
    final class Captured: Sendable {
        let events = Mutex<[(message: String, metadata: Logger.Metadata)]>([])

        var logger: Logger {
            Logger(label: "trace-test") { _ in CapturingHandler(sink: self) }
        }

        var spans: [Logger.Metadata] { events.withLock { $0.filter { $0.message == "span" }.map(\.metadata) } }
    }

    struct CapturingHandler: LogHandler {
        let sink: Captured
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.events.withLock { $0.append(("\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 })) }
        }
    }

    /// A carrier of header fields.
    struct Fields: Extractor, Injector {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    @Test func traceparentRoundTrips() throws {
        let field = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let context = try #require(TraceContext(traceparent: field))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanID == "00f067aa0ba902b7")
        #expect(context.sampled)
        #expect(context.traceparent == field)
        #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled == false)
        // A later version may add fields; version 00 may not.
        #expect(TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra") != nil)
    }

    @Test(arguments: [
        "", "00", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has four fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
    ])
    func malformedTraceparentIsIgnored(_ field: String) {
        #expect(TraceContext(traceparent: field) == nil)
        var context = InstrumentationContext.topLevel
        LogTracer(logger: Captured().logger).extract(["traceparent": field], into: &context, using: Fields())
        #expect(context.traceContext == nil)
    }

    @Test func childSpansShareTheTraceAndNameTheirParentAcrossAHop() throws {
        let captured = Captured()
        let tracer = LogTracer(logger: captured.logger)
        let root = tracer.startSpan("/v1/orders", context: .topLevel, ofKind: .server)
        let forward = tracer.startSpan("forward POST", context: root.context, ofKind: .client)
        forward.attributes["bourse.request_id"] = "req-1"
        var headers: [String: String] = [:]
        tracer.inject(forward.context, into: &headers, using: Fields())
        let sent = try #require(headers["traceparent"])

        // The other node: a fresh tracer, the parent taken from the field.
        let remoteCaptured = Captured()
        let remote = LogTracer(logger: remoteCaptured.logger)
        var received = InstrumentationContext.topLevel
        remote.extract(headers, into: &received, using: Fields())
        let server = remote.startSpan("/v1/orders", context: received, ofKind: .server)
        server.attributes["http.response.status_code"] = 201
        server.end()
        forward.end()
        forward.end()  // a second end is ignored
        root.end()

        let local = captured.spans
        #expect(local.count == 2)
        let forwardLine = try #require(local.first { $0["kind"] == "client" })
        let rootLine = try #require(local.first { $0["kind"] == "server" })
        let serverLine = try #require(remoteCaptured.spans.first)
        #expect(rootLine["parent_span_id"] == nil)
        #expect(forwardLine["parent_span_id"] == rootLine["span_id"])
        #expect(forwardLine["request_id"] == "req-1")
        #expect(serverLine["trace_id"] == rootLine["trace_id"])
        #expect(serverLine["parent_span_id"] == forwardLine["span_id"])
        #expect(serverLine["attr.http.response.status_code"] == "201")
        #expect(sent == "00-\(rootLine["trace_id"]!)-\(forwardLine["span_id"]!)-01")
        #expect(Int("\(serverLine["duration_us"]!)") != nil)
    }

    @Test func unsampledTracesAreNotLoggedAndStayUnsampledDownstream() throws {
        let captured = Captured()
        let tracer = LogTracer(logger: captured.logger, sampleRatio: 0)
        let root = tracer.startSpan("/v1/markets", context: .topLevel, ofKind: .server)
        #expect(!root.isRecording)
        var headers: [String: String] = [:]
        tracer.inject(root.context, into: &headers, using: Fields())
        #expect(headers["traceparent"]?.hasSuffix("-00") == true)
        root.end()
        #expect(captured.spans.isEmpty)

        // A sampled parent from another node is recorded even here.
        var received = InstrumentationContext.topLevel
        tracer.extract(
            ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], into: &received, using: Fields()
        )
        let child = tracer.startSpan("child", context: received, ofKind: .server)
        child.end()
        #expect(captured.spans.first?["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
    }
}
