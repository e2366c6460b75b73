import Actors

/// Stands in for the API module's `APIServices` in the fuzzers: the exchange, the only member the request
/// parsers read. The real type (Sources/API/Routes/APIServices.swift) also holds authentication, the clock and
/// the settings, and with them Hummingbird.
struct APIServices: Sendable {
    let exchange: any ExchangeService
}
