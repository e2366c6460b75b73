import CryptoExtras
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Storage
import Synchronization
import TestSupport
import Trading

@testable import API

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let millis: Atomic<Int64>
    init(millis: Int64 = 1_714_564_800_000) { self.millis = Atomic(millis) }
    var nowMillis: Int64 { millis.load(ordering: .relaxed) }
    func advance(seconds: Int64) { millis.add(seconds * 1000, ordering: .relaxed) }
    var apiClock: APIClock { APIClock { self.millis.load(ordering: .relaxed) } }
}

/// One RSA key for the whole test run: making a 2048-bit key per test would be slow.
enum TestKeys {
    static let pem: String = try! _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
}

/// A running API server on 127.0.0.1 with in-memory collaborators, and an h2c client connected to it.
struct TestServer: Sendable {
    let port: Int
    let exchange: FakeExchange
    let users: InMemoryUserStore
    let keys: InMemoryKeyStore
    let clock: ManualClock
    let server: APIServer
    let h2: H2Client?
    /// The h2c client connected to the server.
    var client: H2Client { h2! }

    /// Configuration for tests: bcrypt cost 4, generous rate limits, a short heartbeat.
    static func configuration() -> APIConfiguration {
        var configuration = APIConfiguration(host: "127.0.0.1", port: 0, bcryptCost: 4)
        configuration.limits.requestsPerSecond = 10_000
        configuration.limits.burst = 10_000
        configuration.limits.loginPerMinute = 1_000
        configuration.heartbeatInterval = .milliseconds(200)
        return configuration
    }

    /// Runs `body` against a fresh server, then shuts it down.
    @discardableResult
    static func run<Result: Sendable>(
        configure: (inout APIConfiguration) -> Void = { _ in },
        routes: (APIRouteTable) -> Void = { _ in },
        connectClient: Bool = true,
        _ body: @Sendable (TestServer) async throws -> Result
    ) async throws -> Result {
        var configuration = Self.configuration()
        configure(&configuration)
        var logger = Logger(label: "api-test")
        logger.logLevel = .critical
        let exchange = FakeExchange()
        let users = InMemoryUserStore()
        let keys = InMemoryKeyStore(values: [TokenAuthority.storeKey: Array(TestKeys.pem.utf8)])
        let clock = ManualClock()
        let server = APIServer(
            configuration: configuration, exchange: exchange, users: users, keys: keys,
            metrics: { "bourse_up 1\n" }, clock: clock.apiClock, logger: logger)
        let table = server.makeRouteTable()
        routes(table)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = try server.makeApplication(routeTable: table) { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        }
        let group = ServiceGroup(services: [application], gracefulShutdownSignals: [], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port != 0 else {
                await group.triggerGracefulShutdown()
                throw CancellationError()
            }
            do {
                // TLS tests use curl: a cleartext h2c connection to a TLS port would only fail.
                let client = connectClient ? try await H2Client.connect(host: "127.0.0.1", port: port) : nil
                let harness = TestServer(
                    port: port, exchange: exchange, users: users, keys: keys, clock: clock, server: server,
                    h2: client)
                let result: Result
                do {
                    result = try await body(harness)
                } catch {
                    try? await client?.close()
                    throw error
                }
                try? await client?.close()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    /// Sends a request over h2c.
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, body: String? = nil, token: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let json {
            buffer = ByteBuffer(bytes: JSONWriter.bytes(json))
            headers[.contentType] = "application/json"
        } else if let body {
            buffer = ByteBuffer(string: body)
            headers[.contentType] = "application/json"
        }
        let response = try await client.request(method: method, path: path, headers: headers, body: buffer)
        return APIResponse(
            status: Int(response.status.code), headers: response.headers, body: Array(buffer: response.body))
    }

    /// Registers `username` and logs in; returns the access and refresh tokens.
    func signUp(_ username: String, password: String = "correct horse") async throws -> (
        access: String, refresh: String
    ) {
        let registered = try await call(
            .post, "/v1/auth/register", json: ["username": .string(username), "password": .string(password)])
        precondition(registered.status == 201, "register failed: \(registered.text)")
        return try await logIn(username, password: password)
    }

    func logIn(_ username: String, password: String = "correct horse") async throws -> (access: String, refresh: String)
    {
        let response = try await call(
            .post, "/v1/auth/login", json: ["username": .string(username), "password": .string(password)])
        precondition(response.status == 200, "login failed: \(response.text)")
        return (response.json["access_token"]?.stringValue ?? "", response.json["refresh_token"]?.stringValue ?? "")
    }
}

/// A response read whole.
struct APIResponse: Sendable {
    var status: Int
    var headers: HTTPFields
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as JSON (`null` when it is not JSON).
    var json: JSONValue { (try? JSONParser().parse(body)) ?? .null }

    /// `error.code` of an error body.
    var errorCode: String? { json["error"]?["code"]?.stringValue }
    var errorMessage: String? { json["error"]?["message"]?.stringValue }
}
