import Logging
import NIOCore
import Transport

/// Inter-node transport benchmark: `bourse-bench transport [--sequential N] [--concurrent N] [--callers C]
/// [--batches N] [--payload B]`.
///
/// Starts a `PeerServer` and a `PeerClient` on 127.0.0.1 in this process (an echo handler: the reply carries
/// the request's payload back) and measures:
///
/// - `sequential`: one call at a time (N calls after 1,000 warm-up calls): round-trip latency p50/p99/p99.9/max;
/// - `concurrent`: C callers, each making calls back to back (N calls in all): messages per second, latency
///   under load, and the requests per frame the coalescing achieved;
/// - `batch`: one caller sending 64-message batches (`send(_:deadline:)` with an array): messages per second.
///
/// Payloads are B bytes (100). Server, client and the measuring tasks share this machine's cores.
enum TransportBench {
    struct EchoHandler: PeerHandler {
        func handle(_ requests: [PeerRequest]) async -> [PeerReply] {
            requests.map { $0.reply(kind: $0.kind, payload: $0.payload) }
        }
    }

    struct Phase {
        var name: String
        var messages: Int
        var nanos: UInt64
        var latencies: Percentiles?
        var frames: Int

        var rate: Double { Double(messages) / (Double(nanos) / 1e9) }
        var perFrame: Double { frames == 0 ? 0 : Double(messages) / Double(frames) }

        var json: String {
            var fields = [
                "\"phase\":\"\(name)\"", "\"messages\":\(messages)",
                "\"seconds\":\(RingBench.rounded(Double(nanos) / 1e9))",
                "\"messages_per_second\":\(Int(rate))", "\"requests_per_frame\":\(RingBench.rounded(perFrame))",
            ]
            if let latencies {
                fields += [
                    "\"p50_us\":\(RingBench.rounded(Double(latencies.p50) / 1e3))",
                    "\"p99_us\":\(RingBench.rounded(Double(latencies.p99) / 1e3))",
                    "\"p999_us\":\(RingBench.rounded(Double(latencies.p999) / 1e3))",
                    "\"max_us\":\(RingBench.rounded(Double(latencies.max) / 1e3))",
                ]
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    static func run(arguments: [String]) async {
        let sequential = Int(option("sequential", in: arguments) ?? "") ?? 20_000
        let concurrent = Int(option("concurrent", in: arguments) ?? "") ?? 200_000
        let callers = Int(option("callers", in: arguments) ?? "") ?? 64
        let batches = Int(option("batches", in: arguments) ?? "") ?? 3_000
        let payloadBytes = Int(option("payload", in: arguments) ?? "") ?? 100
        guard sequential > 0, concurrent >= callers, callers > 0, batches > 0, payloadBytes >= 0 else {
            print(
                "usage: bourse-bench transport [--sequential N] [--concurrent N] [--callers C] [--batches N] [--payload B]"
            )
            print(#"{"mode":"transport","error":"bad arguments"}"#)
            return
        }
        do {
            let phases = try await measure(
                sequential: sequential, concurrent: concurrent, callers: callers, batches: batches,
                payloadBytes: payloadBytes)
            print("transport: PeerServer + PeerClient on 127.0.0.1, one HTTP/2 stream, \(payloadBytes)-byte payloads")
            for phase in phases {
                var line = "\(RingBench.pad(phase.name, 11)) \(RingBench.pad(String(phase.messages), 8)) msgs  "
                line +=
                    "\(RingBench.pad(String(Int(phase.rate)), 7)) msg/s  \(RingBench.rounded(phase.perFrame)) req/frame"
                if let latencies = phase.latencies {
                    line += "  p50 \(micros(latencies.p50))  p99 \(micros(latencies.p99))"
                    line += "  p99.9 \(micros(latencies.p999))  max \(micros(latencies.max))"
                }
                print(line)
            }
            print(
                "{\"mode\":\"transport\",\"payload_bytes\":\(payloadBytes),\"callers\":\(callers),"
                    + "\"phases\":[\(phases.map(\.json).joined(separator: ","))]}")
        } catch {
            print("transport: failed: \(error)")
            print(#"{"mode":"transport","error":"failed"}"#)
        }
    }

    static func measure(sequential: Int, concurrent: Int, callers: Int, batches: Int, payloadBytes: Int)
        async throws -> [Phase]
    {
        let logger = Logger(label: "bourse-bench") { _ in SwiftLogNoOpLogHandler() }
        let secret = PeerSecret("bench-secret")
        let server = PeerServer(
            configuration: .init(
                host: "127.0.0.1", port: 0, identity: PeerIdentity(nodeID: "bench-server", incarnation: 1),
                secret: secret),
            handler: EchoHandler(), logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port ?? 0
            let client = try PeerClient(
                configuration: .init(
                    host: "127.0.0.1", port: port, identity: PeerIdentity(nodeID: "bench-client", incarnation: 1),
                    secret: secret),
                logger: logger)
            group.addTask { try await client.run() }
            let message = PeerMessage(kind: 1, payload: ByteBuffer(repeating: 0x61, count: payloadBytes))
            var phases: [Phase] = []

            var samples: [UInt64] = []
            _ = try await sequentialCalls(1_000, client: client, message: message, samples: &samples)
            samples.removeAll(keepingCapacity: true)
            var frames = client.statistics.framesSent
            var start = nowNanos()
            try await sequentialCalls(sequential, client: client, message: message, samples: &samples)
            var phase = Phase(
                name: "sequential", messages: sequential, nanos: nowNanos() &- start, latencies: Percentiles(&samples),
                frames: client.statistics.framesSent - frames)
            phases.append(phase)

            frames = client.statistics.framesSent
            start = nowNanos()
            var all = try await concurrentCalls(concurrent, callers: callers, client: client, message: message)
            phase = Phase(
                name: "concurrent", messages: concurrent, nanos: nowNanos() &- start, latencies: Percentiles(&all),
                frames: client.statistics.framesSent - frames)
            phases.append(phase)

            frames = client.statistics.framesSent
            let batch = Array(repeating: message, count: 64)
            start = nowNanos()
            for _ in 0..<batches {
                for result in await client.send(batch, deadline: .now + .seconds(30)) { _ = try result.get() }
            }
            phases.append(
                Phase(
                    name: "batch64", messages: batches * 64, nanos: nowNanos() &- start, latencies: nil,
                    frames: client.statistics.framesSent - frames))
            group.cancelAll()
            return phases
        }
    }

    static func sequentialCalls(_ count: Int, client: PeerClient, message: PeerMessage, samples: inout [UInt64])
        async throws
    {
        samples.reserveCapacity(samples.count + count)
        for _ in 0..<count {
            let start = nowNanos()
            _ = try await client.send(message, deadline: .now + .seconds(30))
            samples.append(nowNanos() &- start)
        }
    }

    static func concurrentCalls(_ total: Int, callers: Int, client: PeerClient, message: PeerMessage) async throws
        -> [UInt64]
    {
        try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for caller in 0..<callers {
                let count = total / callers + (caller < total % callers ? 1 : 0)
                group.addTask {
                    var samples: [UInt64] = []
                    try await sequentialCalls(count, client: client, message: message, samples: &samples)
                    return samples
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    static func micros(_ nanos: UInt64) -> String { "\(RingBench.rounded(Double(nanos) / 1e3)) µs" }
}
