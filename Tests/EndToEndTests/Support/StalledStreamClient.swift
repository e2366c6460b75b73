import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/2 client that opens one request stream and then never lets the server send it any data: it announces
/// a flow-control window of 0 bytes, as a client that stopped reading ends up with. The server can send the
/// response head (not flow-controlled) but its first body write waits for good. Frames are written by hand on a
/// plain socket (HPACK literals without indexing), so nothing in the client reads or acknowledges anything else.
final class StalledStreamClient {
    private let socket: Int32

    /// Connects to `127.0.0.1:port`, sends the preface, SETTINGS (initial window 0) and the request `path`, and
    /// returns once the response head has arrived (or throws after `timeout`).
    init(port: Int, path: String, timeout: Duration = .seconds(30)) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw HarnessError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw HarnessError("connect() to port \(port) failed")
        }
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        // SETTINGS: SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 0.
        bytes += Self.frame(type: 0x4, flags: 0, stream: 0, payload: [0x00, 0x04, 0, 0, 0, 0])
        var block: [UInt8] = []
        for (name, value) in [(":method", "GET"), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)] {
            block += [0x00, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(value.utf8.count)] + Array(value.utf8)
        }
        // HEADERS, END_STREAM | END_HEADERS, stream 1.
        bytes += Self.frame(type: 0x1, flags: 0x5, stream: 1, payload: block)
        guard send(socket, bytes, bytes.count, 0) == bytes.count else {
            close(socket)
            throw HarnessError("send() failed")
        }
        try awaitResponseHead(timeout: timeout)
    }

    deinit { close(socket) }

    /// Reads frames until a HEADERS frame of stream 1 has arrived.
    private func awaitResponseHead(timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        var seconds = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        while ContinuousClock.now < deadline {
            while buffer.count >= 9 {
                let length = Int(buffer[0]) << 16 | Int(buffer[1]) << 8 | Int(buffer[2])
                guard buffer.count >= 9 + length else { break }
                let stream = buffer[5...8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
                if buffer[3] == 0x1, stream == 1 { return }
                buffer.removeFirst(9 + length)
            }
            let count = recv(socket, &chunk, chunk.count, 0)
            if count == 0 { throw HarnessError("the server closed the connection before answering") }
            if count > 0 { buffer += chunk[..<count] }
        }
        throw HarnessError("no response head within \(timeout)")
    }

    private static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [
            UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags,
            UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff),
        ] + payload
    }
}
