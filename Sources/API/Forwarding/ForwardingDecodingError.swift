/// Bytes that are not a valid ``ForwardedRequest`` or ``ForwardedResponse``: truncated, an unknown version
/// or kind, a field over its bound, text that is not UTF-8, or bytes after the last field.
///
/// The reason is fixed text; it never carries any of the bytes read, so the error is safe to log.
public struct ForwardingDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Fixed, data-free explanation.
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { "ForwardingDecodingError(\(reason))" }
}
