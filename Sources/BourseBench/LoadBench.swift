import Foundation
import HTTP2Client
import HTTPTypes
import NIOCore

/// `bourse-bench load`: a mixed client workload over HTTP/2 (h2c) against running nodes, closed loop.
///
/// Signs up `--users` users (`load<RUN>u<index>`, RUN from `--run` or random) through the first node and
/// funds them, then runs `--workers` workers for `--seconds` (after `--warmup` seconds not measured). Each
/// worker is one user's client on one of `--connections` h2c connections per node (workers and connections
/// spread evenly over `--nodes`), and sends one request at a time, picked at random with the mix
/// `--mix READS,ORDERS,CANCELS` (percent, default 70,25,5):
/// - a read: in turn the order book (depth 10), the ticker, the caller's balances and open orders;
/// - an order: a limit order of `--quantity` on `--symbol`, buy or sell, at `--price` ± up to 5 ticks of 1, so
///   about half of them trade and the rest rest on the book;
/// - a cancel: of one of the worker's resting orders (when it has none, the draw is an order instead).
///
/// Reports per kind and overall: requests, throughput, p50/p99/p99.9/max latency, and the answers that were
/// not 2xx, by status (a cancel of an order that filled meanwhile is 409, counted apart as `cancel_conflicts`).
/// Last line: one JSON object with every figure. The nodes' rate limits must allow the load (the bench
/// script sets them high), and logins too (`limits.login_per_minute`).
enum LoadBench {
    enum Kind: Int, CaseIterable {
        case read, order, cancel
        var name: String { ["reads", "orders", "cancels"][rawValue] }
    }

    struct Settings {
        var nodes: [(host: String, port: Int)]
        var users = 20
        var workers = 32
        var connections = 2
        var seconds = 20.0
        var warmup = 3.0
        var symbol = "BTC-USD"
        var price: Int64 = 50_000
        var quantity = "0.001"
        var mix = (reads: 70, orders: 25, cancels: 5)
        var seed: UInt64 = 1
        var password = "load-bench-password"
        /// The users' names are `load<run>u<index>`: random unless given, so that runs on one database do not
        /// collide, and known to a caller that reads the users' state afterwards.
        var run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    /// What one worker measured.
    struct Tally: Sendable {
        var latencies: [[UInt64]] = Array(repeating: [], count: Kind.allCases.count)
        var failures: [String: Int] = [:]
        var cancelConflicts = 0
        var transportErrors = 0

        mutating func merge(_ other: Tally) {
            for kind in Kind.allCases { latencies[kind.rawValue] += other.latencies[kind.rawValue] }
            failures.merge(other.failures, uniquingKeysWith: +)
            cancelConflicts += other.cancelConflicts
            transportErrors += other.transportErrors
        }
    }

    struct User: Sendable {
        var name: String
        var token: String
    }

    static func run(arguments: [String]) async {
        do {
            try await measure(try settings(arguments))
        } catch {
            print("bourse-bench load: \(error)")
            exit(2)
        }
    }

    static func settings(_ arguments: [String]) throws -> Settings {
        guard let nodes = option("nodes", in: arguments) else {
            throw LoadBenchError("--nodes HOST:PORT[,HOST:PORT…] is required")
        }
        var settings = Settings(
            nodes: try nodes.split(separator: ",").map { entry in
                let text = entry.hasPrefix("http://") ? entry.dropFirst(7) : entry[...]
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
                    throw LoadBenchError("bad node address \(entry)")
                }
                return (String(text[..<colon]), port)
            })
        if let value = option("users", in: arguments).flatMap(Int.init) { settings.users = max(1, value) }
        if let value = option("workers", in: arguments).flatMap(Int.init) { settings.workers = max(1, value) }
        if let value = option("connections", in: arguments).flatMap(Int.init) { settings.connections = max(1, value) }
        if let value = option("seconds", in: arguments).flatMap(Double.init) { settings.seconds = value }
        if let value = option("warmup", in: arguments).flatMap(Double.init) { settings.warmup = value }
        if let value = option("symbol", in: arguments) { settings.symbol = value }
        if let value = option("price", in: arguments).flatMap({ Int64($0) }) { settings.price = value }
        if let value = option("quantity", in: arguments) { settings.quantity = value }
        if let value = option("seed", in: arguments).flatMap({ UInt64($0) }) { settings.seed = value }
        if let value = option("run", in: arguments) { settings.run = value }
        if let value = option("mix", in: arguments) {
            let parts = value.split(separator: ",").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 >= 0 }), parts.reduce(0, +) == 100 else {
                throw LoadBenchError("--mix must be three percentages adding up to 100, e.g. 70,25,5")
            }
            settings.mix = (parts[0], parts[1], parts[2])
        }
        return settings
    }

    static func measure(_ settings: Settings) async throws {
        var clients: [H2Client] = []
        for node in settings.nodes {
            for _ in 0..<settings.connections {
                clients.append(try await H2Client.connect(host: node.host, port: node.port))
            }
        }
        defer { for client in clients { Task { try? await client.close() } } }
        let users = try await signUp(settings, client: clients[0])
        print(
            "load: \(settings.nodes.count) node(s), \(settings.users) users, \(settings.workers) workers on "
                + "\(clients.count) connections, mix \(settings.mix.reads)/\(settings.mix.orders)/\(settings.mix.cancels), "
                + "\(settings.warmup) s warm-up + \(settings.seconds) s")

        let start = nowNanos()
        let measureFrom = start + UInt64(settings.warmup * 1e9)
        let end = measureFrom + UInt64(settings.seconds * 1e9)
        let tally = await withTaskGroup(of: Tally.self) { group in
            for index in 0..<settings.workers {
                // Worker i uses connection i mod n: connections (and so nodes) get equal shares.
                let client = clients[index % clients.count]
                let user = users[index % users.count]
                let seed = settings.seed &+ UInt64(index) &* 0x9E37_79B9
                group.addTask {
                    await worker(
                        settings, client: client, user: user, seed: seed, measureFrom: measureFrom, end: end)
                }
            }
            var total = Tally()
            for await tally in group { total.merge(tally) }
            return total
        }
        report(settings, tally)
    }

    /// Registers, logs in and funds the users (through one connection).
    static func signUp(_ settings: Settings, client: H2Client) async throws -> [User] {
        var users: [User] = []
        for index in 0..<settings.users {
            let name = "load\(settings.run)u\(index)"
            let credentials: [String: Any] = ["username": name, "password": settings.password]
            let registered = try await call(client, .post, "/v1/auth/register", body: credentials)
            guard registered.status == 201 else { throw LoadBenchError("register \(name): \(registered.status)") }
            let login = try await call(client, .post, "/v1/auth/login", body: credentials)
            guard login.status == 200, let token = login.json?["access_token"] as? String else {
                throw LoadBenchError("login \(name): \(login.status)")
            }
            for (currency, amount) in [("USD", "100000000"), ("BTC", "10000")] {
                let deposit = try await call(
                    client, .post, "/v1/account/deposits", token: token,
                    body: ["currency": currency, "amount": amount])
                guard deposit.status == 201 else { throw LoadBenchError("deposit for \(name): \(deposit.status)") }
            }
            users.append(User(name: name, token: token))
        }
        return users
    }

    /// One closed-loop client: one request at a time until `end`; measures those that start after
    /// `measureFrom`.
    static func worker(
        _ settings: Settings, client: H2Client, user: User, seed: UInt64, measureFrom: UInt64, end: UInt64
    ) async -> Tally {
        var random = BenchRandom(seed: seed)
        var tally = Tally()
        var resting: [String] = []
        var reads = 0
        var orders = 0
        let readPaths = [
            "/v1/markets/\(settings.symbol)/orderbook?depth=10", "/v1/markets/\(settings.symbol)/ticker",
            "/v1/account/balances", "/v1/orders?status=open&limit=20",
        ]
        while true {
            let began = nowNanos()
            guard began < end else { break }
            let draw = random.below(100)
            var kind: Kind =
                draw < settings.mix.reads ? .read : draw < settings.mix.reads + settings.mix.orders ? .order : .cancel
            if kind == .cancel, resting.isEmpty { kind = .order }
            let answer: Answer
            do {
                switch kind {
                case .read:
                    answer = try await call(client, .get, readPaths[reads % readPaths.count], token: user.token)
                    reads += 1
                case .order:
                    let buy = random.below(2) == 0
                    let offset = random.int(-5...5)
                    orders += 1
                    answer = try await call(
                        client, .post, "/v1/orders", token: user.token,
                        body: [
                            "symbol": settings.symbol, "side": buy ? "buy" : "sell", "type": "limit",
                            "price": "\(settings.price + offset)", "quantity": settings.quantity,
                            "client_order_id": "\(user.name)-\(seed)-\(orders)",
                        ])
                    if answer.status == 201, let id = answer.json?["order_id"] as? String,
                        let status = answer.json?["status"] as? String, status == "new" || status == "partially_filled"
                    {
                        resting.append(id)
                    }
                case .cancel:
                    let id = resting.remove(at: random.below(resting.count))
                    answer = try await call(client, .delete, "/v1/orders/\(id)", token: user.token)
                }
            } catch {
                if began >= measureFrom { tally.transportErrors += 1 }
                continue
            }
            let finished = nowNanos()
            guard began >= measureFrom, finished <= end else { continue }
            tally.latencies[kind.rawValue].append(finished - began)
            if kind == .cancel, answer.status == 409 {
                tally.cancelConflicts += 1
            } else if !(200..<300).contains(answer.status) {
                tally.failures["\(kind.name) \(answer.status)", default: 0] += 1
            }
        }
        return tally
    }

    struct Answer {
        var status: Int
        var json: [String: Any]?
    }

    static func call(
        _ client: H2Client, _ method: HTTPRequest.Method, _ path: String, token: String? = nil,
        body: [String: Any]? = nil
    ) async throws -> Answer {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        }
        let response = try await client.request(method: method, path: path, headers: headers, body: buffer)
        let data = Data(response.body.readableBytesView)
        return Answer(
            status: Int(response.status.code),
            json: method == .get ? nil : (try? JSONSerialization.jsonObject(with: data)) as? [String: Any])
    }

    static func report(_ settings: Settings, _ tally: Tally) {
        var figures: [String: Any] = [
            "nodes": settings.nodes.count, "users": settings.users, "workers": settings.workers,
            "connections": settings.connections * settings.nodes.count, "seconds": settings.seconds,
            "mix": [settings.mix.reads, settings.mix.orders, settings.mix.cancels],
            "transport_errors": tally.transportErrors, "cancel_conflicts": tally.cancelConflicts,
            "failures": tally.failures,
        ]
        func line(_ name: String, _ samples: [UInt64]) {
            guard !samples.isEmpty else {
                print("  \(name): none")
                return
            }
            var sorted = samples
            let percentiles = Percentiles(&sorted)
            let rate = Double(samples.count) / settings.seconds
            func ms(_ nanos: UInt64) -> Double { (Double(nanos) / 1e4).rounded() / 100 }
            print(
                "  \(name): \(samples.count) requests, \(Int(rate.rounded()))/s, p50 \(ms(percentiles.p50)) ms, "
                    + "p99 \(ms(percentiles.p99)) ms, p99.9 \(ms(percentiles.p999)) ms, max \(ms(percentiles.max)) ms")
            figures[name] = [
                "requests": samples.count, "per_second": rate.rounded(), "p50_ms": ms(percentiles.p50),
                "p99_ms": ms(percentiles.p99), "p999_ms": ms(percentiles.p999), "max_ms": ms(percentiles.max),
            ]
        }
        for kind in Kind.allCases { line(kind.name, tally.latencies[kind.rawValue]) }
        line("all", tally.latencies.flatMap { $0 })
        print(
            "  not 2xx: \(tally.failures.isEmpty ? "none" : "\(tally.failures)"); cancels of orders already filled "
                + "(409): \(tally.cancelConflicts); transport errors: \(tally.transportErrors)")
        if let data = try? JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys]) {
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

struct LoadBenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
