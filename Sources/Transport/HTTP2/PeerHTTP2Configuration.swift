import NIOHTTP2

/// HTTP/2 settings for peer connections: one long-lived stream per connection carrying a lot of data, so large
/// flow-control windows (the defaults of 64 KiB would stall a busy stream every few frames).
enum PeerHTTP2Configuration {
    static let windowBytes = 4 << 20

    static func make() -> NIOHTTP2Handler.Configuration {
        var configuration = NIOHTTP2Handler.Configuration()
        configuration.connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 16),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 16 << 10),
            HTTP2Setting(parameter: .initialWindowSize, value: windowBytes),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 20),
        ]
        configuration.connection.targetWindowSize = windowBytes
        configuration.stream.targetWindowSize = windowBytes
        configuration.stream.outboundBufferSizeHighWatermark = 1 << 20
        configuration.stream.outboundBufferSizeLowWatermark = 256 << 10
        return configuration
    }
}
