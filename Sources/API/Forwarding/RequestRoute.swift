import Foundation
import Trading

/// What a forwarder may route a client request by, read before authentication: its path and the user its
/// bearer token names. The token is not verified here — the node that runs the request verifies it — so a
/// forged token only picks which node refuses it.
public struct RequestRoute: Sendable, Equatable {
    /// The request's target: path and query.
    public var target: String
    /// The request's `Authorization` header.
    public var authorization: String?

    /// The route of a request with `target` (path and query) and `authorization` (the header's value). Nothing
    /// is parsed until a forwarder asks (active/standby never does).
    public init(target: String, authorization: String?) {
        self.target = target
        self.authorization = authorization
    }

    /// The request's path, without the query.
    public var path: String {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
    }

    /// The user named by the `sub` claim of the request's bearer token, if it carries a well-formed one (decoded
    /// on each read: only a forwarder that routes by user reads it).
    public var user: UserID? { authorization.flatMap(Self.user(ofBearer:)) }

    /// Whether the request is under `/admin/`.
    public var isAdmin: Bool { ForwardingMiddleware.isAdmin(path) }

    /// The market a request is about: `/v1/markets/{symbol}` and everything under it, and the admin routes of
    /// one market (`/admin/v1/markets/{symbol}/halt`, `…/resume`).
    public var market: String? {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        if components.count >= 3, components[0] == "v1", components[1] == "markets" { return String(components[2]) }
        if components.count >= 5, components[0] == "admin", components[1] == "v1", components[2] == "markets" {
            return String(components[3])
        }
        return nil
    }

    /// The channels a `GET /v1/stream` asks for, as its `channels` query parameter names them (percent-decoded,
    /// split at commas, not validated: the stream route does that); nil for any other path, or without one.
    public var streamChannels: [String]? {
        guard ForwardingMiddleware.isStream(path),
            let query = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first
        else { return nil }
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.first == "channels" else { continue }
            let value = pair.count > 1 ? String(pair[1]).replacingOccurrences(of: "+", with: " ") : ""
            return (value.removingPercentEncoding ?? value).split(separator: ",").map(String.init)
        }
        return nil
    }

    /// The `sub` of an unverified `Bearer` JWT, when it is a user id.
    static func user(ofBearer authorization: String) -> UserID? {
        guard authorization.count < 8_192, authorization.hasPrefix("Bearer ") else { return nil }
        let parts = authorization.dropFirst(7).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
            let claims = try? JSONDecoder().decode(Subject.self, from: Data(payload)),
            let user = UserID(claims.sub), user > 0
        else { return nil }
        return user
    }

    private struct Subject: Decodable {
        var sub: String
    }
}
