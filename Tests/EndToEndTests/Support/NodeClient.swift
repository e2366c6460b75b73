import API
import HTTPTypes
import NIOCore
import TestSupport
import Testing

/// A response read whole.
struct APIResponse: Sendable, CustomStringConvertible {
    var status: Int
    var headers: HTTPFields
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as JSON (`null` when it is not JSON).
    var json: JSONValue { (try? JSONParser().parse(body)) ?? .null }
    /// `error.code` of an error body.
    var errorCode: String? { json["error"]?["code"]?.stringValue }
    var description: String { "\(status) \(text)" }
}

/// A signed-in user: id, name and access token.
struct Session: Sendable {
    var userID: String
    var username: String
    var token: String
}

/// The client API over one h2c connection (HTTP/2 with prior knowledge), as api.md describes it.
struct NodeClient: Sendable {
    let h2: H2Client

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    func call(
        _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, token: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let json {
            buffer = ByteBuffer(bytes: JSONWriter.bytes(json))
            headers[.contentType] = "application/json"
        }
        let response = try await h2.request(method: method, path: path, headers: headers, body: buffer)
        return APIResponse(
            status: Int(response.status.code), headers: response.headers, body: Array(buffer: response.body))
    }

    /// `call` that expects `status` and returns the JSON body.
    func json(
        _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, token: String? = nil,
        headers: HTTPFields = [:], expect status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        let response = try await call(method, path, json: json, token: token, headers: headers)
        try #require(response.status == status, "\(method) \(path): \(response)", sourceLocation: sourceLocation)
        return response.json
    }

    /// Registers `username`, logs in and checks `/v1/me`.
    func signUp(_ username: String, password: String = "correct horse battery") async throws -> Session {
        let credentials: JSONValue = ["username": .string(username), "password": .string(password)]
        let registered = try await json(.post, "/v1/auth/register", json: credentials, expect: 201)
        let userID = try #require(registered["user_id"]?.stringValue)
        #expect(registered == ["user_id": .string(userID), "username": .string(username)])
        let login = try await json(.post, "/v1/auth/login", json: credentials)
        #expect(login["token_type"] == "Bearer")
        let token = try #require(login["access_token"]?.stringValue)
        return Session(userID: userID, username: username, token: token)
    }

    /// Logs an existing user in (the admin, say).
    func login(_ username: String, password: String) async throws -> Session {
        let credentials: JSONValue = ["username": .string(username), "password": .string(password)]
        let login = try await json(.post, "/v1/auth/login", json: credentials)
        let token = try #require(login["access_token"]?.stringValue)
        let me = try await json(.get, "/v1/me", token: token)
        return Session(userID: me["user_id"]?.stringValue ?? "", username: username, token: token)
    }

    /// Deposits and returns the JSON answer.
    @discardableResult
    func deposit(_ session: Session, _ currency: String, _ amount: String, key: String? = nil) async throws
        -> JSONValue
    {
        var headers: HTTPFields = [:]
        if let key { headers[Self.idempotencyKey] = key }
        return try await json(
            .post, "/v1/account/deposits", json: ["currency": .string(currency), "amount": .string(amount)],
            token: session.token, headers: headers, expect: 201)
    }

    /// Places an order (`POST /v1/orders`) and returns the whole response.
    func place(_ session: Session, _ fields: JSONValue) async throws -> APIResponse {
        try await call(.post, "/v1/orders", json: fields, token: session.token)
    }

    /// Creates (201) a strategy on BTC-USD that buys 0.001 at every candle close (`price > 1`); its id.
    func alwaysBuyingStrategy(_ session: Session) async throws -> String {
        let strategy = try await json(
            .post, "/v1/strategies",
            json: [
                "name": "always", "symbol": "BTC-USD",
                "rules": [
                    [
                        "when": ["left": ["indicator": "price"], "op": ">", "right": ["value": 1]],
                        "action": ["side": "buy", "quantity": "0.001"],
                    ]
                ],
            ], token: session.token, expect: 201)
        return try #require(strategy["strategy_id"]?.stringValue)
    }

    /// Places an order that must be accepted (201) and returns it.
    func placed(_ session: Session, _ fields: JSONValue, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> JSONValue
    {
        try await json(
            .post, "/v1/orders", json: fields, token: session.token, expect: 201, sourceLocation: sourceLocation)
    }

    /// `{currency: [available, locked]}` of the caller's balances.
    func balances(_ session: Session) async throws -> [String: [String]] {
        let list = try await json(.get, "/v1/account/balances", token: session.token)
        var result: [String: [String]] = [:]
        for balance in list.arrayValue ?? [] {
            guard let currency = balance["currency"]?.stringValue else { continue }
            result[currency] = [balance["available"]?.stringValue ?? "?", balance["locked"]?.stringValue ?? "?"]
        }
        return result
    }

    /// The order book of `symbol` as `[bids, asks]`.
    func book(_ symbol: String = "BTC-USD", depth: Int = 50) async throws -> JSONValue {
        let book = try await json(.get, "/v1/markets/\(symbol)/orderbook?depth=\(depth)")
        return [book["bids"] ?? .null, book["asks"] ?? .null]
    }
}

/// A limit (or other) order request body.
func order(
    _ side: String, _ quantity: String, at price: String? = nil, type: String = "limit", symbol: String = "BTC-USD",
    extra: JSONObject = [:]
) -> JSONValue {
    var object: JSONObject = [
        "symbol": .string(symbol), "side": .string(side), "type": .string(type), "quantity": .string(quantity),
    ]
    if let price { object["price"] = .string(price) }
    for member in extra.members { object[member.key] = member.value }
    return .object(object)
}

extension JSONValue {
    /// The same value with every object's members sorted by key (api.md does not order members).
    var canonical: JSONValue {
        switch self {
        case .object(let object):
            return .object(
                JSONObject(
                    object.members.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value.canonical) }))
        case .array(let values): return .array(values.map(\.canonical))
        default: return self
        }
    }

    var compact: String { JSONWriter.string(self) }
}

/// Expects `actual` to be `expected`, members in any order; shows both as JSON when they differ.
func expectJSON(_ actual: JSONValue?, _ expected: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) {
    let same = actual?.canonical == expected.canonical
    #expect(
        same, "\nactual:   \(actual?.canonical.compact ?? "nil")\nexpected: \(expected.canonical.compact)",
        sourceLocation: sourceLocation)
}

/// Sums of decimal strings with 8 places, exactly (as units of 10⁻⁸).
enum Units {
    static func parse(_ text: String) -> Int64 {
        var negative = false
        var digits = Substring(text)
        if digits.hasPrefix("-") {
            negative = true
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        let whole = Int64(parts[0]) ?? 0
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        fraction = String((fraction + "00000000").prefix(8))
        let units = whole * 100_000_000 + (Int64(fraction) ?? 0)
        return negative ? -units : units
    }

    static func parse(_ value: JSONValue?) -> Int64 { parse(value?.stringValue ?? "0") }
}
