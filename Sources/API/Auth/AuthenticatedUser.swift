import Trading

/// What a user may do: `admin` can use the admin routes too.
public enum UserRole: String, Sendable, Hashable {
    case user
    case admin
}

/// The caller of a request, as its verified access token says.
public struct AuthenticatedUser: Sendable, Hashable {
    public var id: UserID
    public var role: UserRole
    public init(id: UserID, role: UserRole) {
        self.id = id
        self.role = role
    }
}

/// What the `Authorization` header of a request said.
enum Authentication: Sendable, Hashable {
    /// No `Authorization` header.
    case anonymous
    case authenticated(AuthenticatedUser)
    /// A header that is malformed or whose token does not verify; the message says why.
    case invalid(String)
}
