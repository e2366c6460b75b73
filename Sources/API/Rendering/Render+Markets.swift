import Actors
import Trading

extension Render {
    static func market(_ market: MarketInfo) -> JSONValue {
        let spec = market.spec
        return [
            "symbol": .string(spec.symbol), "base": .string(spec.base), "quote": .string(spec.quote),
            "tick_size": .string(
                FixedDecimal.format(spec.tickSize.units, scale: Amount.scale, fractionDigits: spec.priceDecimals)),
            "lot_size": .string(
                FixedDecimal.format(spec.lotSize.units, scale: Amount.scale, fractionDigits: spec.quantityDecimals)),
            "min_quantity": quantity(spec.minQuantity, spec),
            "maker_fee_bps": .int(spec.makerFeeBps), "taker_fee_bps": .int(spec.takerFeeBps),
            "status": .string(market.halted ? "halted" : "trading"),
        ]
    }

    static func ticker(_ ticker: TickerView, _ spec: MarketSpec) -> JSONValue {
        [
            "symbol": .string(ticker.symbol), "last_price": price(ticker.lastPrice, spec),
            "best_bid": price(ticker.bestBid, spec), "best_ask": price(ticker.bestAsk, spec),
            "open_24h": price(ticker.open24h, spec), "high_24h": price(ticker.high24h, spec),
            "low_24h": price(ticker.low24h, spec), "volume_24h": quantity(ticker.volume24h, spec),
            "timestamp": time(ticker.timestampMillis),
        ]
    }

    static func orderBook(_ depth: DepthView, _ spec: MarketSpec) -> JSONValue {
        func levels(_ levels: [PriceLevel]) -> JSONValue {
            .array(levels.map { [price($0.price, spec), quantity($0.quantity, spec)] })
        }
        return [
            "symbol": .string(depth.symbol), "sequence": .int(depth.sequence), "bids": levels(depth.bids),
            "asks": levels(depth.asks),
        ]
    }

    static func publicTrade(_ trade: PublicTrade, _ spec: MarketSpec) -> JSONValue {
        [
            "trade_id": id(trade.tradeID), "price": price(trade.price, spec),
            "quantity": quantity(trade.quantity, spec),
            "taker_side": .string(trade.takerSide.apiName), "timestamp": time(trade.timestampMillis),
        ]
    }

    static func candle(_ candle: CandleView, _ spec: MarketSpec) -> JSONValue {
        [
            "open_time": time(candle.openTimeMillis), "open": price(candle.open, spec),
            "high": price(candle.high, spec),
            "low": price(candle.low, spec), "close": price(candle.close, spec), "volume": quantity(candle.volume, spec),
        ]
    }
}
