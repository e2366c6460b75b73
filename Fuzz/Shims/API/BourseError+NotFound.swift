import Trading

/// Stands in for the one constructor the request parsers use from Sources/API/Errors/BourseError+HTTP.swift,
/// which maps codes to Hummingbird's statuses.
extension BourseError {
    static func notFound(_ message: String) -> BourseError { BourseError(.notFound, message) }
}
