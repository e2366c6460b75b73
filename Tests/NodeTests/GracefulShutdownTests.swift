import API
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Synchronization
import TestSupport
import Testing

@testable import Node

/// The node's way out on SIGTERM: the steps of `GracefulShutdown` in order, before the API is told to stop;
/// the active role's side of it (readiness, requests admitted during a handoff); the setting.
@Suite(.timeLimit(.minutes(2)))
struct GracefulShutdownTests {
    /// What happened, in order.
    final class Events: Sendable {
        private let list = Mutex<[String]>([])
        func append(_ event: String) { list.withLock { $0.append(event) } }
        var all: [String] { list.withLock { $0 } }
    }

    /// Stands for the API: records when it is told to stop.
    struct API: Service {
        let events: Events

        func run() async throws {
            try? await gracefulShutdown()
            events.append("api stops")
        }
    }

    static func shutdown(_ events: Events, handOff: @escaping @Sendable () async throws -> Void = {})
        -> GracefulShutdown
    {
        GracefulShutdown(
            endpointDelay: .seconds(5),
            steps: .init(
                stopBeingReady: { events.append("not ready") },
                handOff: {
                    events.append("hand off")
                    try await handOff()
                }),
            logger: ActiveRoleTests.logger, sleep: { events.append("wait \($0)") })
    }

    @Test func notReadyThenTheDelayThenTheHandoffThenTheAPIStops() async throws {
        let events = Events()
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: API(events: events)), .init(service: Self.shutdown(events))],
                logger: ActiveRoleTests.logger))
        async let running: Void = group.run()
        try await Task.sleep(for: .milliseconds(50))
        #expect(events.all.isEmpty, "nothing happens before the signal")
        await group.triggerGracefulShutdown()
        try await running
        #expect(events.all == ["not ready", "wait 5.0 seconds", "hand off", "api stops"])
    }

    @Test func aFailedHandoffStillLetsTheNodeStop() async throws {
        struct Failed: Error {}
        let events = Events()
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: API(events: events)),
                    .init(service: Self.shutdown(events, handOff: { throw Failed() })),
                ],
                logger: ActiveRoleTests.logger))
        async let running: Void = group.run()
        await group.triggerGracefulShutdown()
        try await running
        #expect(events.all == ["not ready", "wait 5.0 seconds", "hand off", "api stops"])
    }

    @Test func cancelledItSkipsEveryStep() async throws {
        let events = Events()
        let run = Task { try await Self.shutdown(events).run() }
        run.cancel()
        try await run.value
        #expect(events.all.isEmpty)
    }

    /// On the active node: `/readyz` turns 503 at `beginShutdown()` while requests are still admitted; a
    /// request admitted before the drain holds the handoff until it finishes; requests arriving meanwhile are
    /// not admitted (they wait for the next active node), and the drained node then forwards to it.
    @Test func theHandoffWaitsForTheRequestsAdmittedAndAdmitsNoMore() async throws {
        let store = InMemoryKeyStore()
        let a = ActiveRoleTests.node("node-a", store: store)
        let b = ActiveRoleTests.node("node-b", store: store)
        let runA = Task { try await a.run() }
        await ActiveRoleTests.eventually("a leads and serves") { await a.exchange.isReady() }
        let runB = Task { try await b.run() }
        await ActiveRoleTests.eventually("b follows a") { b.role == .standby(active: "node-a") }
        #expect(a.isReady == nil, "the active node is ready once its exchange is")
        #expect(b.isReady == true)

        a.beginShutdown()
        #expect(a.isReady == false)
        #expect(a.mode == .local, "not ready, but still serving")
        #expect(await a.admitLocal(), "a request before the drain")

        let drain = Task { try await a.drain() }
        await ActiveRoleTests.eventually("a stops admitting") { a.mode != .local }
        if case .unavailable = a.mode {} else { Issue.record("handing off: \(a.mode)") }
        #expect(await !a.admitLocal(), "a request during the handoff is not admitted")
        try await Task.sleep(for: .milliseconds(300))
        #expect(await a.exchange.isReady(), "the exchange serves until the admitted request is answered")
        #expect(b.role == .standby(active: "node-a"))

        a.finishLocal()
        try await drain.value
        await ActiveRoleTests.eventually("b takes over") { await b.exchange.isReady() }
        await ActiveRoleTests.eventually("a forwards to b") { a.role == .drained(active: "node-b") }
        #expect(a.mode == .forward)
        #expect(a.isReady == false, "a node shutting down stays not ready")
        #expect(await b.admitLocal())
        b.finishLocal()
        runA.cancel()
        runB.cancel()
        _ = await runA.result
        _ = await runB.result
    }

    /// A standby whose active node just handed off stays ready for `serviceWait` (requests wait for the next
    /// one meanwhile); a node that never saw an active node is not.
    @Test func aStandbyStaysReadyThroughAHandoff() async throws {
        let store = InMemoryKeyStore()
        let lone = ActiveRoleTests.node("node-z", store: store)
        #expect(lone.isReady == nil, "a node that never saw an active node: its exchange decides")
        #expect(lone.serviceWait == .seconds(3))
        let a = ActiveRoleTests.node("node-a", store: store)
        let runA = Task { try await a.run() }
        await ActiveRoleTests.eventually("a leads and serves") { await a.exchange.isReady() }
        let b = ActiveRoleTests.node("node-b", store: store)
        try await b.drain()  // b never takes over: after a's handoff nobody serves
        let runB = Task { try await b.run() }
        await ActiveRoleTests.eventually("b follows a") { b.role == .drained(active: "node-a") }
        try await a.drain()
        await ActiveRoleTests.eventually("b sees nobody serving") { b.role == .drained(active: nil) }
        if case .unavailable = b.mode {} else { Issue.record("nobody serves: \(b.mode)") }
        #expect(b.isReady == true)
        await ActiveRoleTests.eventually("b is not ready once the wait is over") { b.isReady == nil }
        runA.cancel()
        runB.cancel()
        _ = await runA.result
        _ = await runB.result
    }

    @Test func theDelayComesFromClusterYAMLOrTheEnvironment() throws {
        let defaults = try NodeConfiguration.resolve(file: nil, flags: .init(), environment: [:])
        #expect(defaults.shutdownDelay == .seconds(1))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shutdown-\(UUID()).yaml").path
        try "node:\n  shutdown_delay_seconds: 2.5\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try NodeConfiguration.resolve(file: path, flags: .init(), environment: [:])
        #expect(file.shutdownDelay == .milliseconds(2_500))
        let environment = try NodeConfiguration.resolve(
            file: path, flags: .init(), environment: ["BOURSE_SHUTDOWN_DELAY_SECONDS": "0"])
        #expect(environment.shutdownDelay == .zero)
        for bad in ["-1", "soon", "601", "nan"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try NodeConfiguration.resolve(
                    file: nil, flags: .init(), environment: ["BOURSE_SHUTDOWN_DELAY_SECONDS": bad])
            }
        }
    }
}
