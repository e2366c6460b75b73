import Synchronization
import TestSupport

/// A client-side load balancer over node processes that follows their readiness as Kubernetes endpoints do:
/// it polls every node's `GET /readyz` every `period` and sends new requests only to the nodes whose last
/// answer was 200, in turn. Requests already sent finish where they are.
final class ReadyRouter: Sendable {
    private struct Endpoint {
        let port: Int
        var client: NodeClient?
        var ready = false
    }

    private let endpoints: Mutex<[Endpoint]>
    private let turn = Atomic<Int>(0)
    let period: Duration

    private init(ports: [Int], period: Duration) {
        endpoints = Mutex(ports.map { Endpoint(port: $0) })
        self.period = period
    }

    /// Runs `body` with a router over `nodes`, polling their readiness meanwhile (one round before `body`).
    static func with<T: Sendable>(
        _ nodes: [NodeProcess], period: Duration = .milliseconds(100),
        _ body: @escaping @Sendable (ReadyRouter) async throws -> T
    ) async throws -> T {
        let router = ReadyRouter(ports: nodes.map(\.port), period: period)
        await router.pollOnce()
        defer { router.closeAll() }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    await router.pollOnce()
                }
                return nil
            }
            group.addTask { try await body(router) }
            while let result = try await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            throw HarnessError("the router ended without a result")
        }
    }

    /// The client of a ready node (in turn) and its port; nil when no node is ready.
    func pick() -> (client: NodeClient, port: Int)? {
        endpoints.withLock { endpoints in
            let ready = endpoints.filter { $0.ready && $0.client != nil }
            guard !ready.isEmpty else { return nil }
            let endpoint = ready[turn.add(1, ordering: .relaxed).newValue % ready.count]
            return endpoint.client.map { ($0, endpoint.port) }
        }
    }

    /// `pick()`, waiting up to `timeout` for a node to be ready.
    func waitForReady(within timeout: Duration) async -> (client: NodeClient, port: Int)? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let picked = pick() { return picked }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// The ports of the nodes ready now.
    var readyPorts: [Int] { endpoints.withLock { $0.filter(\.ready).map(\.port) } }

    /// Asks every node's `/readyz` once, on a connection of its own (a node that does not answer within a
    /// second, or refuses the connection, is not ready). A node's request connection is opened when it is
    /// first found ready.
    private func pollOnce() async {
        let ports = endpoints.withLock { $0.map(\.port) }
        await withTaskGroup(of: (Int, Bool).self) { group in
            for port in ports {
                group.addTask { (port, await Self.probe(port)) }
            }
            for await (port, ready) in group {
                var client = endpoints.withLock { $0.first { $0.port == port }?.client }
                if ready, client == nil {
                    client = (try? await H2Client.connect(host: "127.0.0.1", port: port)).map(NodeClient.init)
                }
                endpoints.withLock { endpoints in
                    guard let index = endpoints.firstIndex(where: { $0.port == port }) else { return }
                    if endpoints[index].client == nil { endpoints[index].client = client }
                    endpoints[index].ready = ready
                }
            }
        }
    }

    private static func probe(_ port: Int) async -> Bool {
        let status = await withTimeout(.seconds(1)) {
            try await H2Client.withConnection(host: "127.0.0.1", port: port) { client in
                try await client.request(method: .get, path: "/readyz").status.code
            }
        }
        return (try? status?.get()) == 200
    }

    private func closeAll() {
        let clients = endpoints.withLock { $0.compactMap(\.client) }
        for client in clients { client.h2.channel.close(promise: nil) }
    }
}

/// `body`'s outcome, or nil when it takes longer than `timeout`. A body that ignores cancellation is left
/// running (this returns at the timeout all the same).
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Result<
    T, any Error
>? {
    let resumed = Mutex<CheckedContinuation<Result<T, any Error>?, Never>?>(nil)
    let resume = { @Sendable (outcome: Result<T, any Error>?) in
        resumed.withLock { continuation in
            continuation?.resume(returning: outcome)
            continuation = nil
        }
    }
    var tasks: [Task<Void, Never>] = []
    let outcome = await withCheckedContinuation { continuation in
        resumed.withLock { $0 = continuation }
        tasks.append(
            Task {
                do {
                    resume(.success(try await body()))
                } catch {
                    resume(.failure(error))
                }
            })
        tasks.append(
            Task {
                try? await Task.sleep(for: timeout)
                resume(nil)
            })
    }
    for task in tasks { task.cancel() }
    return outcome
}
