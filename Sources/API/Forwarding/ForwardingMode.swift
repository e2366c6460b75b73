/// How a node serves exchange requests right now (active/standby).
public enum ForwardingMode: Sendable, Equatable {
    /// This node serves the exchange: requests are handled here.
    case local
    /// Another node serves the exchange and is known: requests are forwarded to it.
    case forward
    /// No node serves the exchange right now (e.g. during a failover): requests answer 503 UNAVAILABLE with
    /// `Retry-After`. The reason is shown to clients, so it must not carry anything secret.
    case unavailable(String)
}
