import API
import NIOHTTP1

/// Requests of `bourse admin` to one node, authenticated as an admin: with a token given as is
/// (`--token`, `BOURSE_TOKEN`), or one obtained through `POST /v1/auth/login` with the admin's password
/// (`--password`, `BOURSE_ADMIN_PASSWORD`). Neither the password nor the token is ever printed.
struct AdminSession: Sendable {
    /// How to get a token.
    enum Credentials: Sendable {
        case token(String)
        case password(username: String, password: String)
        case none
    }

    let client: AdminHTTPClient
    private let token: String?

    private init(client: AdminHTTPClient, token: String?) {
        self.client = client
        self.token = token
    }

    /// A session without a token, for public routes.
    static func anonymous(_ endpoint: AdminEndpoint) -> AdminSession {
        AdminSession(client: AdminHTTPClient(endpoint: endpoint), token: nil)
    }

    /// Logs in when needed.
    ///
    /// - Throws: `AdminFailure` without credentials, or when the login is refused.
    static func authenticated(_ endpoint: AdminEndpoint, credentials: Credentials) async throws -> AdminSession {
        let client = AdminHTTPClient(endpoint: endpoint)
        switch credentials {
        case .token(let token):
            return AdminSession(client: client, token: token)
        case .none:
            throw AdminFailure.usage(
                "no credentials: give --password or BOURSE_ADMIN_PASSWORD (or --token or BOURSE_TOKEN)")
        case .password(let username, let password):
            let body: JSONValue = ["username": .string(username), "password": .string(password)]
            let response = try await client.send(.POST, "/v1/auth/login", json: JSONWriter.bytes(body))
            let json = try? JSONParser().parse(response.body)
            guard response.status == 200, let token = json?["access_token"]?.stringValue else {
                var failure = AdminFailure.api(status: response.status, body: json)
                failure.message = "login as \(username) failed: \(failure.message)"
                throw failure
            }
            return AdminSession(client: client, token: token)
        }
    }

    /// Sends a request; returns the JSON body of a 2xx answer.
    ///
    /// - Throws: `AdminFailure` with the API's code and message for any other answer.
    func request(_ method: HTTPMethod, _ path: String, json body: JSONValue? = nil) async throws -> JSONValue {
        let response = try await client.send(method, path, json: body.map { JSONWriter.bytes($0) }, token: token)
        let json = try? JSONParser().parse(response.body)
        guard (200..<300).contains(response.status) else {
            throw AdminFailure.api(status: response.status, body: json)
        }
        guard let json else { throw AdminFailure(message: "the node's answer to \(path) is not JSON") }
        return json
    }

    /// A path segment percent-encoded (`accounts/0417` → `accounts%2F0417`).
    static func pathSegment(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]], as: UTF8.self)
            }
        }
        return result
    }
}
