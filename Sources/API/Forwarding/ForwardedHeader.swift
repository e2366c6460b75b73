import HTTPTypes

/// One header field of a forwarded request or response: a lowercase name and its value.
///
/// Headers travel as an ordered list (a name may repeat), so that two messages compare equal exactly when
/// they would be sent the same way.
public struct ForwardedHeader: Sendable, Hashable {
    /// The field name, lowercase (`authorization`).
    public var name: String
    /// The field value.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Which header fields cross the cluster with a forwarded request and its response.
///
/// - A request carries only the end-to-end fields a route reads: `authorization`, `content-type`, `accept`
///   and `idempotency-key`, every occurrence in order. Everything else stays at the edge: hop-by-hop fields
///   (`connection`, `keep-alive`, `transfer-encoding`, `te`, `upgrade`, `host`, `proxy-*`), `content-length`
///   (the body travels whole, with its own length), HTTP/2 pseudo fields (`:path` and `:method` travel as the
///   target and the method), and anything else a client sent (`user-agent`, `x-…`), which no route reads.
///   The edge node adds what ties the two nodes' work together: the request's id (`x-request-id`, the one its
///   `RequestIDMiddleware` settled on) and, when tracing is on, the W3C trace context of its forwarding span
///   (`traceparent`, `tracestate`); the target accepts those too (``isAcceptedForwardedField(_:)``).
/// - A response carries every field the target's routes set (`content-type`, `cache-control`, `retry-after`,
///   …) except hop-by-hop fields, `content-length` (the edge's server sets it from the body), `date` and
///   `server` (the edge's server sets its own) and `bourse-not-served` (between nodes only).
enum ForwardedHeaderPolicy {
    /// The request fields that are forwarded.
    static let requestFields: Set<String> = ["authorization", "content-type", "accept", "idempotency-key"]

    /// The response fields that are never relayed.
    static let droppedResponseFields: Set<String> = [
        "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
        "proxy-authenticate", "content-length", "date", "server", ForwardedResponse.notServedField,
    ]

    static func isForwardedRequestField(_ name: String) -> Bool { requestFields.contains(name) }

    /// The fields the edge node adds to a forwarded request: the request id and the trace context.
    static let correlationFields: Set<String> = ["x-request-id", "traceparent", "tracestate"]

    /// The fields a node takes from a request forwarded to it: the client's (``isForwardedRequestField(_:)``)
    /// and the edge node's correlation fields.
    static func isAcceptedForwardedField(_ name: String) -> Bool {
        requestFields.contains(name) || correlationFields.contains(name)
    }

    static func isRelayedResponseField(_ name: String) -> Bool {
        !name.hasPrefix(":") && !droppedResponseFields.contains(name)
    }

    /// The fields of `fields` that `keep` accepts, in order.
    static func headers(of fields: HTTPFields, keeping keep: (String) -> Bool) -> [ForwardedHeader] {
        fields.compactMap { field in
            let name = field.name.canonicalName
            return keep(name) ? ForwardedHeader(name: name, value: field.value) : nil
        }
    }

    /// `headers` as HTTP fields, skipping those `keep` refuses and names that are not valid field names.
    static func fields(of headers: [ForwardedHeader], keeping keep: (String) -> Bool) -> HTTPFields {
        var fields = HTTPFields()
        for header in headers {
            let name = header.name.lowercased()
            guard keep(name), let fieldName = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: fieldName, value: header.value))
        }
        return fields
    }
}
