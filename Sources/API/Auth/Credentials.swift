import Trading

/// The rules for usernames and passwords (api.md, "Auth").
enum Credentials {
    static let usernameLength = 3...32
    static let passwordLength = 8...128

    /// 3–32 of `[A-Za-z0-9_.-]`.
    static func validateUsername(_ username: String) throws(BourseError) {
        let bytes = username.utf8
        guard usernameLength.contains(bytes.count),
            bytes.allSatisfy({ byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                    true
                default: false
                }
            })
        else { throw .validation("username must be 3-32 characters of A-Z, a-z, 0-9, _, . and -") }
    }

    /// 8–128 characters (Unicode scalars), without NUL.
    static func validatePassword(_ password: String) throws(BourseError) {
        let count = password.unicodeScalars.count
        guard passwordLength.contains(count) else { throw .validation("password must be 8-128 characters") }
        guard !password.utf8.contains(0) else { throw .validation("password must not contain NUL characters") }
    }
}
