import NIOHPACK

/// The HTTP/2 heads of a peer stream.
enum PeerStreamHeaders {
    /// The only path a peer stream may open.
    static let path = "/bourse.peer/v1/stream"
    static let contentType = "application/x-bourse-peer-v1"

    /// The stream-opening request, signed with `credentials`.
    static func request(authority: String, credentials: PeerCredentials, path: String = path) -> HPACKHeaders {
        var headers: HPACKHeaders = [
            ":method": "POST", ":scheme": "http", ":path": path, ":authority": authority, "content-type": contentType,
        ]
        credentials.add(to: &headers)
        return headers
    }

    /// A response head with `status`.
    static func response(status: Int) -> HPACKHeaders {
        var headers: HPACKHeaders = [":status": String(status)]
        if status == 200 { headers.add(name: "content-type", value: contentType) }
        return headers
    }

    /// The status of a response head, if it has a valid one.
    static func status(of headers: HPACKHeaders) -> Int? {
        headers.first(name: ":status").flatMap { Int($0) }
    }
}
