import Trading

/// A parsed `ws://` or `wss://` URL: what to connect to and what to ask for.
struct WebSocketURL: Sendable, Hashable, CustomStringConvertible {
    /// `wss`: TLS with SNI.
    var isSecure: Bool
    /// Host name or IP address (IPv6 without brackets).
    var host: String
    var port: Int
    /// Path and query, at least `/`.
    var path: String

    /// Parses `text`; user info (`user:password@`) is refused so that no credentials end up in logs.
    init(parsing text: String) throws(BourseError) {
        let invalid = BourseError.validation("feed url must look like ws://host[:port]/path or wss://…")
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("wss://") {
            isSecure = true
            rest = text.dropFirst(6)
        } else if lowered.hasPrefix("ws://") {
            isSecure = false
            rest = text.dropFirst(5)
        } else {
            throw invalid
        }
        let withoutFragment = rest.prefix { $0 != "#" }
        let authorityEnd = withoutFragment.firstIndex { $0 == "/" || $0 == "?" } ?? withoutFragment.endIndex
        let authority = withoutFragment[..<authorityEnd]
        let target = withoutFragment[authorityEnd...]
        path = target.isEmpty ? "/" : (target.hasPrefix("?") ? "/" + target : String(target))
        guard !authority.isEmpty, !authority.contains("@") else { throw invalid }

        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\t" }) else { throw invalid }
        if let portText {
            guard let port = Int(portText), (1...65_535).contains(port) else { throw invalid }
            self.port = port
        } else {
            port = isSecure ? 443 : 80
        }
    }

    /// Whether `host` is an IP literal (which must not be sent as SNI).
    var hostIsIPAddress: Bool {
        host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? name : "\(name):\(port)"
    }

    var description: String { "\(isSecure ? "wss" : "ws")://\(hostHeader)\(path)" }
}
