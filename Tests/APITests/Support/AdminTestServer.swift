import Actors
import Foundation
import HTTPTypes
import Logging
import NIOCore
import ServiceLifecycle
import Storage
import TestSupport
import Trading

@testable import API

/// The API over the real exchange on a SQLite store in `directory` (a fresh one by default): node
/// `api-admin`, markets BTC-USD and ETH-USD, 4 account shards, the admin user created as at first start,
/// and one ordinary user; an h2c client connected.
struct AdminTestServer: Sendable {
    static let adminPassword = "admin password"

    let port: Int
    let client: H2Client
    let exchange: Exchange
    let adminToken: String
    let userToken: String

    static func run(directory: String? = nil, _ body: @Sendable (AdminTestServer) async throws -> Void)
        async throws
    {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-admin-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var logger = Logger(label: "admin-test")
        logger.logLevel = .critical
        let store = try await SQLiteStore(directory: directory ?? scratch, logger: logger)
        let exchange = Exchange(
            configuration: .init(markets: [FakeExchange.btc, FakeExchange.eth], accountShards: 4, nodeID: "api-admin"),
            store: store, logger: logger)
        let server = APIServer(
            configuration: TestServer.configuration(), exchange: exchange, users: InMemoryUserStore(),
            keys: InMemoryKeyStore(values: [TokenAuthority.storeKey: Array(TestKeys.pem.utf8)]), metrics: { "" },
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await store.run() }
            do {
                try await store.migrate()
                try await exchange.start()
                try await server.ensureAdminUser(password: adminPassword)
                try await serve(server, logger: logger) { port in
                    try await H2Client.withConnection(host: "127.0.0.1", port: port) { client in
                        var harness = AdminTestServer(
                            port: port, client: client, exchange: exchange, adminToken: "", userToken: "")
                        harness = AdminTestServer(
                            port: port, client: client, exchange: exchange,
                            adminToken: try await harness.logIn("admin", adminPassword),
                            userToken: try await harness.signUp("trader1"))
                        try await body(harness)
                    }
                }
                await exchange.stop()
                await store.shutdown()
                try await tasks.waitForAll()
            } catch {
                await store.shutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }

    /// Runs the API on a free port while `body` runs, then shuts it down gracefully.
    private static func serve(
        _ server: APIServer, logger: Logger, _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = try server.makeApplication { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        }
        let group = ServiceGroup(services: [application], gracefulShutdownSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next(), port != 0 else { throw CancellationError() }
                try await body(port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    /// Sends a request over h2c.
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, body: String? = nil, token: String? = nil
    ) async throws -> APIResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let json {
            buffer = ByteBuffer(bytes: JSONWriter.bytes(json))
        } else if let body {
            buffer = ByteBuffer(string: body)
        }
        if buffer != nil { headers[.contentType] = "application/json" }
        let response = try await client.request(method: method, path: path, headers: headers, body: buffer)
        return APIResponse(
            status: Int(response.status.code), headers: response.headers, body: Array(buffer: response.body))
    }

    /// Registers a user and returns its access token.
    func signUp(_ username: String) async throws -> String {
        let registered = try await call(
            .post, "/v1/auth/register", json: ["username": .string(username), "password": "correct horse"])
        guard registered.status == 201 else { throw BourseError(.internal, "register: \(registered.text)") }
        return try await logIn(username, "correct horse")
    }

    func logIn(_ username: String, _ password: String) async throws -> String {
        let response = try await call(
            .post, "/v1/auth/login", json: ["username": .string(username), "password": .string(password)])
        guard let token = response.json["access_token"]?.stringValue else {
            throw BourseError(.internal, "login: \(response.text)")
        }
        return token
    }
}
