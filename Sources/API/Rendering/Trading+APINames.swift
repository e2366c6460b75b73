import Actors
import Trading

/// The API's spellings of the domain's enumerations, both ways.
extension Side {
    static let apiNames: KeyValuePairs<String, Side> = ["buy": .buy, "sell": .sell]
    var apiName: String { self == .buy ? "buy" : "sell" }
}

extension OrderType {
    static let apiNames: KeyValuePairs<String, OrderType> = [
        "limit": .limit, "market": .market, "stop": .stop, "stop_limit": .stopLimit,
    ]
    var apiName: String {
        switch self {
        case .limit: "limit"
        case .market: "market"
        case .stop: "stop"
        case .stopLimit: "stop_limit"
        }
    }
}

extension TimeInForce {
    static let apiNames: KeyValuePairs<String, TimeInForce> = ["gtc": .gtc, "ioc": .ioc, "fok": .fok]
    var apiName: String {
        switch self {
        case .gtc: "gtc"
        case .ioc: "ioc"
        case .fok: "fok"
        }
    }
}

extension RejectReason {
    var apiName: String {
        switch self {
        case .invalidOrder: "invalid_order"
        case .duplicateOrderID: "duplicate_order_id"
        case .postOnlyWouldCross: "post_only_would_cross"
        case .fillOrKillUnfillable: "fill_or_kill_unfillable"
        case .noLiquidity: "no_liquidity"
        case .unknownOrder: "unknown_order"
        case .invalidAmend: "invalid_amend"
        }
    }
}

extension OrderFilter.Status {
    static let apiNames: KeyValuePairs<String, OrderFilter.Status> = ["open": .open, "closed": .closed, "all": .all]
}

extension CandleInterval {
    static let apiNames: [String] = allCases.map(\.rawValue)
}
