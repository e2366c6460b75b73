import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import Trading

@testable import API

@Suite("Forwarding to the node that serves the exchange")
struct ForwardingTests {
    static let order: JSONValue = [
        "symbol": "BTC-USD", "side": "buy", "type": "limit", "price": "50000", "quantity": "0.01",
    ]

    /// Signs up at the edge and deposits through it (forwarded); returns the token.
    static func funded(_ pair: ForwardingPair, _ name: String) async throws -> String {
        let token = try await pair.signUp(name)
        let deposit = try await pair.edge.call(
            .post, "/v1/account/deposits", json: ["currency": "USD", "amount": "1000000"], token: token)
        try #require(deposit.status == 201, "\(deposit.text)")
        return token
    }

    @Test func exchangeRequestsAreAnsweredByTheServingNode() async throws {
        try await ForwardingPair.run { pair in
            let token = try await pair.signUp("alice")
            #expect(pair.forwarder.calls == 0, "sign-up and login are served at the edge")

            let deposit = try await pair.edge.call(
                .post, "/v1/account/deposits", json: ["currency": "USD", "amount": "1000000"], token: token,
                headers: [HTTPField.Name("Idempotency-Key")!: "deposit-1", HTTPField.Name("X-Trace")!: "t"])
            #expect(deposit.status == 201)
            #expect(deposit.json["available"] == "1000000.00000000")
            #expect(deposit.headers[.contentType] == "application/json")
            #expect(pair.forwarder.calls == 1)
            #expect(await pair.target.exchange.idempotencyKeys == ["deposit-1"])
            #expect(await pair.edge.exchange.idempotencyKeys.isEmpty)
            let sent = try #require(pair.forwarder.requests.last)
            #expect(sent.method == "POST")
            #expect(sent.target == "/v1/account/deposits")
            #expect(sent.clientAddress == "127.0.0.1")
            // The client's fields that routes read, and the request's id (the edge's, which the client also got).
            #expect(
                sent.headers.map(\.name).sorted() == [
                    "authorization", "content-type", "idempotency-key", "x-request-id",
                ])
            let requestID = try #require(deposit.headers[HTTPField.Name("X-Request-Id")!])
            #expect(sent.headers.first { $0.name == "x-request-id" }?.value == requestID)
            #expect(sent.body == ByteBuffer(bytes: JSONWriter.bytes(["currency": "USD", "amount": "1000000"])))

            let placed = try await pair.edge.call(.post, "/v1/orders", json: Self.order, token: token)
            #expect(placed.status == 201, "\(placed.text)")
            #expect(await pair.target.exchange.placed.count == 1)
            #expect(await pair.edge.exchange.placed.isEmpty)
            let orderID = try #require(placed.json["order_id"]?.stringValue)

            for path in ["/v1/orders", "/v1/orders/\(orderID)", "/v1/account/balances", "/v1/markets"] {
                let viaEdge = try await pair.edge.call(.get, path, token: token)
                let direct = try await pair.target.call(.get, path, token: token)
                #expect(viaEdge.status == 200, "\(path)")
                #expect(viaEdge.status == direct.status, "\(path)")
                #expect(viaEdge.text == direct.text, "\(path)")
                #expect(viaEdge.headers[.contentType] == direct.headers[.contentType], "\(path)")
                #expect(viaEdge.headers[.cacheControl] == direct.headers[.cacheControl], "\(path)")
            }
            #expect(pair.forwarder.calls == 6)
            #expect(pair.targetForwarder.calls == 0, "the serving node never forwards")
        }
    }

    @Test func errorsAreRelayedUnchanged() async throws {
        try await ForwardingPair.run { pair in
            let token = try await Self.funded(pair, "bob")
            let cases: [(HTTPRequest.Method, String, String?, String?, Int, String)] = [
                (.get, "/v1/orders", nil, "not-a-token", 401, "UNAUTHORIZED"),
                (.get, "/v1/orders", nil, nil, 401, "UNAUTHORIZED"),
                (.post, "/v1/orders", #"{"symbol":"BTC-USD","side":"sideways"}"#, token, 400, "VALIDATION_ERROR"),
                (.post, "/v1/orders", "{not json", token, 400, "VALIDATION_ERROR"),
                (.get, "/v1/orders/424242", nil, token, 404, "NOT_FOUND"),
                (.get, "/v1/no-such-route", nil, token, 404, "NOT_FOUND"),
            ]
            for (method, path, body, bearer, status, code) in cases {
                let before = pair.forwarder.calls
                let viaEdge = try await pair.edge.call(method, path, body: body, token: bearer)
                let direct = try await pair.target.call(method, path, body: body, token: bearer)
                #expect(viaEdge.status == status, "\(method) \(path)")
                #expect(viaEdge.errorCode == code, "\(method) \(path)")
                #expect(viaEdge.text == direct.text, "\(method) \(path)")
                #expect(viaEdge.headers[.contentType] == "application/json", "\(method) \(path)")
                #expect(pair.forwarder.calls == before + 1, "\(method) \(path)")
            }
            let poor = try await pair.edge.call(
                .post, "/v1/orders",
                json: [
                    "symbol": "BTC-USD", "side": "buy", "type": "limit", "price": "50000",
                    "quantity": "1000",
                ], token: token)
            #expect(poor.status == 422)
            #expect(poor.errorCode == "INSUFFICIENT_FUNDS")
        }
    }

    @Test func theQueryStringSurvives() async throws {
        try await ForwardingPair.run { pair in
            let token = try await Self.funded(pair, "carol")
            for _ in 0..<3 {
                #expect(try await pair.edge.call(.post, "/v1/orders", json: Self.order, token: token).status == 201)
            }
            let all = try await pair.edge.call(.get, "/v1/orders?status=open", token: token)
            #expect(all.json.arrayValue?.count == 3)
            let one = try await pair.edge.call(.get, "/v1/orders?status=open&limit=1", token: token)
            #expect(one.status == 200)
            #expect(one.json.arrayValue?.count == 1)
            #expect(pair.forwarder.requests.last?.target == "/v1/orders?status=open&limit=1")
            let direct = try await pair.target.call(.get, "/v1/orders?status=open&limit=1", token: token)
            #expect(one.text == direct.text)
        }
    }

    @Test func aBodyOverTheLimitIsRefusedAtTheEdge() async throws {
        try await ForwardingPair.run(configure: { $0.limits.bodyBytes = 1024 }) { pair in
            let token = try await pair.signUp("dave")
            let large = String(repeating: " ", count: 2000) + #"{"symbol":"BTC-USD"}"#
            let streamed = try await pair.edge.call(.post, "/v1/orders", body: large, token: token)
            #expect(streamed.status == 413)
            #expect(streamed.errorCode == "PAYLOAD_TOO_LARGE")
            let announced = try await pair.edge.call(
                .post, "/v1/orders", body: large, token: token,
                headers: [.contentLength: String(large.utf8.count)])
            #expect(announced.status == 413)
            #expect(announced.errorCode == "PAYLOAD_TOO_LARGE")
            #expect(pair.forwarder.calls == 0)
            // Just under the limit is forwarded (and the target reads it as usual).
            let small = try await pair.edge.call(.post, "/v1/orders", json: Self.order, token: token)
            #expect(small.status == 422)
            #expect(pair.forwarder.calls == 1)
        }
    }

    @Test func noServingNodeAnswers503() async throws {
        try await ForwardingPair.run { pair in
            let token = try await pair.signUp("erin")
            pair.forwarder.failing = true
            let failed = try await pair.edge.call(.get, "/v1/orders", token: token)
            #expect(failed.status == 503)
            #expect(failed.errorCode == "UNAVAILABLE")
            #expect(failed.headers[.retryAfter] == "1")
            #expect(pair.forwarder.calls == 1)

            pair.forwarder.failing = false
            pair.forwarder.mode = .unavailable("a failover is in progress")
            let unavailable = try await pair.edge.call(.post, "/v1/orders", json: Self.order, token: token)
            #expect(unavailable.status == 503)
            #expect(unavailable.errorCode == "UNAVAILABLE")
            #expect(unavailable.errorMessage?.contains("a failover is in progress") == true)
            #expect(unavailable.headers[.retryAfter] == "1")
            #expect(pair.forwarder.calls == 1)
        }
    }

    @Test func exemptRoutesAreServedLocally() async throws {
        try await ForwardingPair.run { pair in
            _ = try await pair.signUp("frank")
            let login = try await pair.edge.call(
                .post, "/v1/auth/login", json: ["username": "frank", "password": "correct horse"])
            #expect(login.status == 200)
            for path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/.well-known/jwks.json"] {
                #expect(try await pair.edge.call(.get, path).status == 200, "\(path)")
            }
            // On a standby (its exchange not ready) a stream is refused by the readiness check, not forwarded.
            let stream = try await pair.edge.call(.get, "/v1/stream?channels=ticker:BTC-USD")
            #expect(stream.status == 503)
            #expect(pair.forwarder.calls == 0)
        }
    }

    @Test func localPathsMatchAsTheRouterDoes() {
        for path in [
            "/healthz", "/readyz", "/metrics", "/openapi.json", "/.well-known/jwks.json", "/v1/stream",
            "/v1/stream/", "//healthz", "/v1/auth/login", "/v1/auth/refresh", "/v1//auth/logout", "/v1/auth",
        ] {
            #expect(ForwardingMiddleware.servedLocally(path), "\(path)")
        }
        for path in [
            "/", "/v1", "/v1/orders", "/v1/me", "/v1/markets", "/admin/v1/cluster", "/healthz/x", "/v1/streams",
            "/v1/authx/login", "/.well-known/other", "/v2/auth/login", "/V1/auth/login",
        ] {
            #expect(!ForwardingMiddleware.servedLocally(path), "\(path)")
        }
    }

    @Test func aStandbyIsReadyWhileItForwards() async throws {
        try await ForwardingPair.run { pair in
            #expect(await pair.edge.exchange.isReady() == false)
            #expect(try await pair.edge.call(.get, "/readyz").status == 200)
            pair.forwarder.mode = .unavailable("failover")
            #expect(try await pair.edge.call(.get, "/readyz").status == 503)
            pair.forwarder.mode = .local
            let local = try await pair.edge.call(.get, "/readyz")
            #expect(local.status == 503)
            #expect(local.headers[.retryAfter] == "1")
            await pair.edge.exchange.setReady(true)
            #expect(try await pair.edge.call(.get, "/readyz").status == 200)
            #expect(pair.forwarder.calls == 0)
        }
    }

    /// A node that lost the active role between the edge's decision and the request's arrival refuses it
    /// (the client retries) instead of forwarding it again.
    @Test func aNodeThatDoesNotServeRefusesForwardedRequests() async throws {
        for mode in [ForwardingMode.forward, .unavailable("failover")] {
            let forwarder = TestForwarder(mode: mode)
            let server = ForwardingPair.makeServer(exchange: FakeExchange(), forwarder: forwarder)
            try await server.prepare()
            let responder = server.makeForwardedRequestResponder()
            let response = await responder.respond(
                ForwardedRequest(method: "GET", target: "/v1/markets", clientAddress: "192.0.2.7"))
            #expect(response.status == 503)
            #expect(response.headers.contains(ForwardedHeader(name: "retry-after", value: "1")))
            let json = try JSONParser().parse(Array(buffer: response.body))
            #expect(json["error"]?["code"] == "UNAVAILABLE")
            #expect(json["error"]?["message"]?.stringValue?.contains("no longer serves") == true)
            #expect(forwarder.calls == 0)
        }
    }

    @Test func theResponderAnswersWithTheRoutesAndTheirErrors() async throws {
        let server = ForwardingPair.makeServer(exchange: FakeExchange(), forwarder: nil)
        try await server.prepare()
        let responder = server.makeForwardedRequestResponder()
        let markets = await responder.respond(
            ForwardedRequest(method: "GET", target: "/v1/markets", clientAddress: "192.0.2.7"))
        #expect(markets.status == 200)
        #expect(markets.headers.contains(ForwardedHeader(name: "content-type", value: "application/json")))
        #expect(!markets.headers.contains { ["content-length", "date", "server"].contains($0.name) })
        #expect(try JSONParser().parse(Array(buffer: markets.body)).arrayValue?.count == 3)
        let unauthorized = await responder.respond(
            ForwardedRequest(
                method: "GET", target: "/v1/orders", headers: [.init(name: "authorization", value: "Bearer x")],
                clientAddress: "192.0.2.7"))
        #expect(unauthorized.status == 401)
        let invalidMethod = await responder.respond(
            ForwardedRequest(method: "G E T", target: "/v1/markets", clientAddress: "192.0.2.7"))
        #expect(invalidMethod.status == 400)
        #expect(try JSONParser().parse(Array(buffer: invalidMethod.body))["error"]?["code"] == "VALIDATION_ERROR")
        let stream = await responder.respond(
            ForwardedRequest(method: "GET", target: "/v1/stream?channels=ticker:BTC-USD", clientAddress: "192.0.2.7"))
        #expect(stream.status == 500, "a stream needs a connection; it is never forwarded")
    }

    @Test func responseBodiesAreCollectedUpToTheLimit() async throws {
        let parts = ResponseBody(contentsOf: [ByteBuffer(string: "abc"), ByteBuffer(string: "def")])
        #expect(try await CollectingResponseBodyWriter.collect(parts, limit: 6) == ByteBuffer(string: "abcdef"))
        await #expect(throws: CollectingResponseBodyWriter.TooLarge.self) {
            try await CollectingResponseBodyWriter.collect(parts, limit: 5)
        }
        // A body of unknown length is stopped as it passes the limit.
        let unbounded = ResponseBody { writer in
            while true { try await writer.write(ByteBuffer(repeating: 0, count: 1000)) }
        }
        await #expect(throws: CollectingResponseBodyWriter.TooLarge.self) {
            try await CollectingResponseBodyWriter.collect(unbounded, limit: 10_000)
        }
        #expect(try await CollectingResponseBodyWriter.collect(ResponseBody(), limit: 0).readableBytes == 0)
    }
}

// MARK: - The binary form

extension ForwardingTests {
    @Test func requestsAndResponsesRoundTrip() throws {
        var random = SeededRandom(seed: 0xF0_4A_4D)
        for _ in 0..<300 {
            let request = ForwardedRequest(
                method: ["GET", "POST", "DELETE", "PATCH"][Int(random.int(in: 0...3))],
                target: "/v1/" + Self.text(&random, maxLength: 60), headers: Self.headers(&random),
                body: Self.bytes(&random), clientAddress: Self.text(&random, maxLength: 45))
            #expect(try ForwardedRequest(decoding: request.encoded()) == request)
            let response = ForwardedResponse(
                status: Int(random.int(in: 200...599)), headers: Self.headers(&random), body: Self.bytes(&random))
            #expect(try ForwardedResponse(decoding: response.encoded()) == response)
        }
    }

    @Test func truncatedOrMalformedBytesThrow() throws {
        var random = SeededRandom(seed: 7)
        let request = ForwardedRequest(
            method: "POST", target: "/v1/orders?x=1", headers: [.init(name: "authorization", value: "Bearer t")],
            body: ByteBuffer(string: #"{"symbol":"BTC-USD"}"#), clientAddress: "203.0.113.9")
        let response = ForwardedResponse(
            status: 201, headers: [.init(name: "content-type", value: "application/json")],
            body: ByteBuffer(string: "{}"))
        let encodedRequest = request.encoded()
        let encodedResponse = response.encoded()
        for length in 0..<encodedRequest.readableBytes {
            #expect(throws: ForwardingDecodingError.self) {
                try ForwardedRequest(decoding: encodedRequest.getSlice(at: 0, length: length)!)
            }
        }
        for length in 0..<encodedResponse.readableBytes {
            #expect(throws: ForwardingDecodingError.self) {
                try ForwardedResponse(decoding: encodedResponse.getSlice(at: 0, length: length)!)
            }
        }
        // A trailing byte, another version, the other kind.
        var trailing = encodedRequest
        trailing.writeInteger(UInt8(0))
        #expect(throws: ForwardingDecodingError.self) { try ForwardedRequest(decoding: trailing) }
        var version = encodedRequest
        version.setInteger(UInt8(2), at: 0)
        #expect(throws: ForwardingDecodingError.self) { try ForwardedRequest(decoding: version) }
        #expect(throws: ForwardingDecodingError.self) { try ForwardedRequest(decoding: encodedResponse) }
        #expect(throws: ForwardingDecodingError.self) { try ForwardedResponse(decoding: encodedRequest) }
        // Statuses that are not final responses, including one that does not fit the field.
        for status in [0, 101, 600, 70_000, -1] {
            #expect(throws: ForwardingDecodingError.self) {
                try ForwardedResponse(decoding: ForwardedResponse(status: status).encoded())
            }
        }
        // Lengths over their bounds are refused before anything is read.
        var huge = ByteBuffer()
        huge.writeInteger(ForwardingWireFormat.version)
        huge.writeInteger(UInt8(ascii: "R"))
        huge.writeInteger(UInt16(200))
        huge.writeInteger(UInt32(0))
        huge.writeInteger(UInt32.max)
        #expect(throws: ForwardingDecodingError.self) { try ForwardedResponse(decoding: huge) }
        let manyHeaders = ForwardedResponse(
            status: 200,
            headers: Array(repeating: .init(name: "x", value: "y"), count: ForwardingWireFormat.maximumHeaderCount + 1))
        #expect(throws: ForwardingDecodingError.self) { try ForwardedResponse(decoding: manyHeaders.encoded()) }
        let longTarget = ForwardedRequest(
            method: "GET", target: "/" + String(repeating: "a", count: ForwardingWireFormat.maximumTargetBytes),
            clientAddress: "")
        #expect(throws: ForwardingDecodingError.self) { try ForwardedRequest(decoding: longTarget.encoded()) }
        // Text that is not UTF-8: the method's bytes replaced by an invalid sequence.
        var invalidText = ForwardedRequest(method: "GET", target: "/", clientAddress: "").encoded()
        invalidText.setBytes([0xC3, 0x28, 0xFF], at: 6)
        #expect(throws: ForwardingDecodingError.self) { try ForwardedRequest(decoding: invalidText) }
        // Garbage after a valid start.
        for _ in 0..<500 {
            var garbage = ByteBuffer()
            garbage.writeInteger(ForwardingWireFormat.version)
            garbage.writeInteger(UInt8(ascii: random.chance(50) ? "Q" : "R"))
            garbage.writeBytes(Self.bytes(&random, maxLength: 64).readableBytesView)
            #expect(throws: ForwardingDecodingError.self) { try ForwardedRequest(decoding: garbage) }
            #expect(throws: ForwardingDecodingError.self) { try ForwardedResponse(decoding: garbage) }
        }
    }

    static func text(_ random: inout SeededRandom, maxLength: Int) -> String {
        let alphabet = Array("abcXYZ019-._~/?=&%: é€😀")
        return String(
            (0..<Int(random.int(in: 0...Int64(maxLength)))).map { _ in
                alphabet[Int(random.int(in: 0...Int64(alphabet.count - 1)))]
            })
    }

    static func headers(_ random: inout SeededRandom) -> [ForwardedHeader] {
        (0..<Int(random.int(in: 0...8))).map { _ in
            ForwardedHeader(
                name: ["authorization", "content-type", "retry-after", "x-" + text(&random, maxLength: 8)][
                    Int(random.int(in: 0...3))],
                value: text(&random, maxLength: 200))
        }
    }

    static func bytes(_ random: inout SeededRandom, maxLength: Int = 4096) -> ByteBuffer {
        ByteBuffer(
            bytes: (0..<Int(random.int(in: 0...Int64(maxLength)))).map { _ in UInt8.random(in: 0...255, using: &random)
            })
    }
}

// MARK: - Harness

/// A forwarder whose mode the test sets; it calls the serving node's responder in process and counts calls.
final class TestForwarder: RequestForwarder {
    private struct State {
        var mode: ForwardingMode
        var failing = false
        var target: ForwardedRequestResponder?
        var requests: [ForwardedRequest] = []
    }

    private let state: Mutex<State>

    init(mode: ForwardingMode, target: ForwardedRequestResponder? = nil) {
        state = Mutex(State(mode: mode, target: target))
    }

    var mode: ForwardingMode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    /// Whether `forward` throws (the active node cannot be reached).
    var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }

    /// Every request `forward` was called with.
    var requests: [ForwardedRequest] { state.withLock { $0.requests } }
    var calls: Int { requests.count }

    func forward(_ request: ForwardedRequest) async throws -> ForwardedResponse {
        let (target, failing) = state.withLock { state in
            state.requests.append(request)
            return (state.target, state.failing)
        }
        guard !failing, let target else { throw CancellationError() }
        // Through the binary form, as over the transport.
        let answer = await target.respond(try ForwardedRequest(decoding: request.encoded()))
        return try ForwardedResponse(decoding: answer.encoded())
    }
}

/// An API server on 127.0.0.1 and an h2c client connected to it.
struct ForwardingNode: Sendable {
    let exchange: FakeExchange
    let client: H2Client

    /// Sends a request over h2c.
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, body: String? = nil, token: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let json { buffer = ByteBuffer(bytes: JSONWriter.bytes(json)) }
        if let body { buffer = ByteBuffer(string: body) }
        if buffer != nil { headers[.contentType] = "application/json" }
        let response = try await client.request(method: method, path: path, headers: headers, body: buffer)
        return APIResponse(
            status: Int(response.status.code), headers: response.headers, body: Array(buffer: response.body))
    }
}

/// Two API servers sharing one user store and one signing key, as two nodes share the database: the target
/// serves the exchange (its forwarder's mode is `.local`); the edge is a standby (its own exchange is not
/// ready) whose forwarder, in mode `.forward`, calls the target's `ForwardedRequestResponder`.
struct ForwardingPair: Sendable {
    let target: ForwardingNode
    let edge: ForwardingNode
    /// The edge's forwarder.
    let forwarder: TestForwarder
    /// The target's forwarder (mode `.local`).
    let targetForwarder: TestForwarder

    /// A server over `exchange`; the stores and the clock are the node's own unless given.
    static func makeServer(
        exchange: FakeExchange, forwarder: TestForwarder?, users: InMemoryUserStore = InMemoryUserStore(),
        keys: InMemoryKeyStore = InMemoryKeyStore(values: [TokenAuthority.storeKey: Array(TestKeys.pem.utf8)]),
        clock: ManualClock = ManualClock(), configuration: APIConfiguration = TestServer.configuration()
    ) -> APIServer {
        var logger = Logger(label: "forwarding-test")
        logger.logLevel = .critical
        return APIServer(
            configuration: configuration, exchange: exchange, users: users, keys: keys, metrics: { "" },
            forwarder: forwarder, clock: clock.apiClock, logger: logger)
    }

    static func run(
        configure: (inout APIConfiguration) -> Void = { _ in }, _ body: @Sendable (ForwardingPair) async throws -> Void
    ) async throws {
        var configuration = TestServer.configuration()
        configure(&configuration)
        let users = InMemoryUserStore()
        let keys = InMemoryKeyStore(values: [TokenAuthority.storeKey: Array(TestKeys.pem.utf8)])
        let clock = ManualClock()
        let targetExchange = FakeExchange()
        let targetForwarder = TestForwarder(mode: .local)
        let targetServer = makeServer(
            exchange: targetExchange, forwarder: targetForwarder, users: users, keys: keys, clock: clock,
            configuration: configuration)
        let edgeExchange = FakeExchange()
        await edgeExchange.setReady(false)
        let forwarder = TestForwarder(mode: .forward, target: targetServer.makeForwardedRequestResponder())
        let edgeServer = makeServer(
            exchange: edgeExchange, forwarder: forwarder, users: users, keys: keys, clock: clock,
            configuration: configuration)
        try await serve(targetServer) { targetClient in
            try await serve(edgeServer) { edgeClient in
                try await body(
                    ForwardingPair(
                        target: ForwardingNode(exchange: targetExchange, client: targetClient),
                        edge: ForwardingNode(exchange: edgeExchange, client: edgeClient), forwarder: forwarder,
                        targetForwarder: targetForwarder))
            }
        }
    }

    /// Runs `server` on a free port while `body` runs with a client connected, then shuts it down.
    private static func serve(_ server: APIServer, _ body: @Sendable (H2Client) async throws -> Void) async throws {
        var logger = Logger(label: "forwarding-test")
        logger.logLevel = .critical
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
                try await H2Client.withConnection(host: "127.0.0.1", port: port) { client in try await body(client) }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    /// Registers `username` at the edge and logs in there; returns the access token.
    func signUp(_ username: String) async throws -> String {
        let credentials: JSONValue = ["username": .string(username), "password": "correct horse"]
        let registered = try await edge.call(.post, "/v1/auth/register", json: credentials)
        try #require(registered.status == 201, "\(registered.text)")
        let login = try await edge.call(.post, "/v1/auth/login", json: credentials)
        return try #require(login.json["access_token"]?.stringValue, "\(login.text)")
    }
}
