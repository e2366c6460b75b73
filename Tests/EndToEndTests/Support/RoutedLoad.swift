import API
import HTTPTypes
import Synchronization
import TestSupport

/// Client load through a `ReadyRouter`, as real clients behave: orders and reads from several clients, a 503
/// retried after its `Retry-After` (api.md: 503 is safe to retry; a retried order keeps its
/// `client_order_id`), and every other outcome that is not a success counted as a failure: connection
/// errors, timeouts, 5xx other than 503, 4xx other than an order's 422.
final class RoutedLoad: Sendable {
    struct Counts: Sendable, CustomStringConvertible {
        /// Requests sent (retries included).
        var requests = 0
        var orders = 0
        var reads = 0
        /// Orders refused with 422 (funds, post-only, nothing to match): answers, not failures.
        var refused = 0
        /// 503s retried after their `Retry-After`.
        var retries = 0
        var failures = 0
        /// Requests sent per node (port).
        var byPort: [Int: Int] = [:]
        /// The slowest answer.
        var slowest = Duration.zero
        /// The first failures, described.
        var failureSamples: [String] = []

        var description: String {
            "\(requests) requests (\(orders) orders, \(reads) reads), \(refused) orders refused with 422, "
                + "\(retries) retries after 503, \(failures) failures; slowest answer \(slowest); "
                + "per node \(byPort.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))"
        }
    }

    let router: ReadyRouter
    let users: [Session]
    let seed: UInt64
    let acknowledged = Acknowledged()
    private let counts = Mutex(Counts())
    private let stopped = Atomic<Bool>(false)
    /// When a request's answer is given up on.
    static let requestTimeout = Duration.seconds(15)
    /// 503s in a row after which a request counts as failed.
    static let maximumAttempts = 10

    init(router: ReadyRouter, users: [Session], seed: UInt64) {
        self.router = router
        self.users = users
        self.seed = seed
    }

    var current: Counts { counts.withLock { $0 } }

    /// Ends the clients' loops (each finishes the request it is on).
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Runs `clients` concurrent clients until `stop()`; each sends one request at a time.
    func run(clients: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask { await self.client(client) }
            }
        }
    }

    private func client(_ number: Int) async {
        var sent = 0
        while !stopped.load(ordering: .relaxed) {
            sent += 1
            let user = (number + sent) % users.count
            if sent % 4 == 0 {
                let paths = ["/v1/orders?limit=5", "/v1/account/balances", "/v1/markets/BTC-USD/orderbook?depth=10"]
                await send(.get, paths[sent / 4 % paths.count], json: nil, user: user)
            } else {
                let index = number * 1_000_000 + sent
                await send(.post, "/v1/orders", json: NodeLoad.request(index, seed: seed), user: user)
            }
        }
    }

    /// Sends one request, retrying it after a 503, and counts the outcome.
    private func send(_ method: HTTPRequest.Method, _ path: String, json: JSONValue?, user: Int) async {
        let isOrder = method == .post
        let token = users[user].token
        for _ in 0..<Self.maximumAttempts {
            guard let (client, port) = await router.waitForReady(within: .seconds(5)) else {
                return fail("\(method) \(path): no node was ready for 5 s")
            }
            counts.withLock {
                $0.requests += 1
                $0.byPort[port, default: 0] += 1
                if isOrder { $0.orders += 1 } else { $0.reads += 1 }
            }
            let started = ContinuousClock.now
            let outcome = await withTimeout(Self.requestTimeout) {
                try await client.call(method, path, json: json, token: token)
            }
            let took = ContinuousClock.now - started
            counts.withLock { $0.slowest = max($0.slowest, took) }
            let response: APIResponse
            switch outcome {
            case nil: return fail("\(method) \(path) on :\(port): no answer within \(Self.requestTimeout)")
            case .failure(let error)?: return fail("\(method) \(path) on :\(port): \(error)")
            case .success(let answer)?: response = answer
            }
            switch response.status {
            case 503:
                counts.withLock { $0.retries += 1 }
                let seconds = response.headers[.retryAfter].flatMap { Int($0) } ?? 1
                try? await Task.sleep(for: .seconds(seconds))
                continue
            case 200 where !isOrder:
                return
            case 201 where isOrder:
                guard response.json["order_id"] != nil else {
                    return fail("\(method) \(path) on :\(port): 201 without an order: \(response)")
                }
                acknowledged.append(user: user, order: response.json)
                return
            case 422 where isOrder:
                counts.withLock { $0.refused += 1 }
                return
            default:
                return fail("\(method) \(path) on :\(port): \(response)")
            }
        }
        fail("\(method) \(path): 503 \(Self.maximumAttempts) times in a row")
    }

    private func fail(_ description: String) {
        counts.withLock { counts in
            counts.failures += 1
            if counts.failureSamples.count < 20 { counts.failureSamples.append(description) }
        }
    }
}
