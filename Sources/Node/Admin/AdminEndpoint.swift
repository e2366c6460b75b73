/// The node `bourse admin` talks to: `--node http://HOST:PORT` (the scheme and port may be left out; the
/// port defaults to 80 with `http://` and to 8080 without a scheme).
struct AdminEndpoint: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// - Throws: `AdminFailure` for an https URL (the CLI speaks cleartext HTTP/1.1) or a malformed one.
    init(parsing text: String) throws(AdminFailure) {
        var rest = Substring(text)
        var defaultPort = 8080
        if rest.hasPrefix("https://") {
            throw AdminFailure.usage("--node: https is not supported by bourse admin; give the node's http:// URL")
        }
        if rest.hasPrefix("http://") {
            rest = rest.dropFirst("http://".count)
            defaultPort = 80
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        let host: Substring
        var port = defaultPort
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else { throw Self.malformed(text) }
                port = number
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let number = Int(rest[rest.index(after: colon)...]) else { throw Self.malformed(text) }
            port = number
        } else {
            host = rest
        }
        guard !host.isEmpty, (1...65_535).contains(port) else { throw Self.malformed(text) }
        self.host = String(host)
        self.port = port
    }

    /// The `Host` header.
    var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    var description: String { "http://\(hostHeader)" }

    private static func malformed(_ text: String) -> AdminFailure {
        AdminFailure.usage("--node must be http://HOST:PORT, not \(text)")
    }
}
