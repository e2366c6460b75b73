import TestSupport
import Trading

/// Scenarios of stop orders (triggering, order, cascades) and of amends.
extension MatchingScenario {
    /// Two steps that leave an empty book whose last trade price is `price` (trade id 1, order ids 1 and 2).
    static func lastTrade(at price: Int64) -> [Step] {
        [
            step(limit(1, owner: 1, .sell, price: price, quantity: 1), expect: [.accepted(1)]),
            step(
                limit(2, owner: 2, .buy, price: price, quantity: 1),
                expect: [
                    .accepted(2), trade(1, price: price, quantity: 1, taker: .buy, maker: (1, 1, 0), taker: (2, 2, 0)),
                ], .bestBid(nil), .bestAsk(nil)),
        ]
    }

    static let stopScenarios: [MatchingScenario] = [
        MatchingScenario(
            "buy stops trigger by stop price then acceptance, and cascade behind those waiting",
            lastTrade(at: 100) + [
                step(limit(3, owner: 3, .sell, price: 101, quantity: 1), expect: [.accepted(3)]),
                step(limit(4, owner: 3, .sell, price: 102, quantity: 5), expect: [.accepted(4)]),
                step(limit(5, owner: 3, .sell, price: 103, quantity: 5), expect: [.accepted(5)]),
                step(stop(6, owner: 4, .buy, stopPrice: 102, quantity: 1), expect: [.accepted(6)]),
                step(stop(7, owner: 5, .buy, stopPrice: 101, quantity: 2), expect: [.accepted(7)]),
                step(stop(8, owner: 6, .buy, stopPrice: 101, quantity: 3, limitPrice: 102), expect: [.accepted(8)]),
                step(
                    limit(9, owner: 7, .buy, price: 101, quantity: 1),
                    expect: [
                        .accepted(9),
                        trade(2, price: 101, quantity: 1, taker: .buy, maker: (3, 3, 0), taker: (9, 7, 0)),
                        // Last 101: 7 and 8 (stop 101, in acceptance order); 6 (stop 102) not yet.
                        .triggered(7), .triggered(8),
                        trade(3, price: 102, quantity: 2, taker: .buy, maker: (4, 3, 3), taker: (7, 5, 0)),
                        // Last 102: 6 triggers and queues behind 8.
                        .triggered(6),
                        trade(4, price: 102, quantity: 3, taker: .buy, maker: (4, 3, 0), taker: (8, 6, 0)),
                        trade(5, price: 103, quantity: 1, taker: .buy, maker: (5, 3, 4), taker: (6, 4, 0)),
                    ], .bestAsk(103), .bestBid(nil)),
            ]),
        MatchingScenario(
            "sell stops trigger at or below their stop price and cascade",
            lastTrade(at: 100) + [
                step(limit(3, owner: 3, .buy, price: 99, quantity: 1), expect: [.accepted(3)]),
                step(limit(4, owner: 3, .buy, price: 98, quantity: 5), expect: [.accepted(4)]),
                step(stop(5, owner: 4, .sell, stopPrice: 98, quantity: 1), expect: [.accepted(5)]),
                step(stop(6, owner: 5, .sell, stopPrice: 99, quantity: 1), expect: [.accepted(6)]),
                step(stop(7, owner: 5, .sell, stopPrice: 97, quantity: 1, limitPrice: 97), expect: [.accepted(7)]),
                step(
                    limit(8, owner: 6, .sell, price: 99, quantity: 1),
                    expect: [
                        .accepted(8),
                        trade(2, price: 99, quantity: 1, taker: .sell, maker: (3, 3, 0), taker: (8, 6, 0)),
                        .triggered(6),
                        trade(3, price: 98, quantity: 1, taker: .sell, maker: (4, 3, 4), taker: (6, 5, 0)),
                        .triggered(5),
                        trade(4, price: 98, quantity: 1, taker: .sell, maker: (4, 3, 3), taker: (5, 4, 0)),
                    ], .bestBid(98)),
                step(.cancel(7), expect: [cancelled(7, remaining: 1, .user)]),
            ]),
        MatchingScenario(
            "sell stops triggered together enter by stop price descending, then acceptance",
            lastTrade(at: 100) + [
                step(limit(3, owner: 3, .buy, price: 90, quantity: 10), expect: [.accepted(3)]),
                step(stop(4, owner: 4, .sell, stopPrice: 95, quantity: 1, limitPrice: 90), expect: [.accepted(4)]),
                step(stop(5, owner: 5, .sell, stopPrice: 97, quantity: 1, limitPrice: 90), expect: [.accepted(5)]),
                step(stop(6, owner: 6, .sell, stopPrice: 95, quantity: 1, limitPrice: 90), expect: [.accepted(6)]),
                step(stop(7, owner: 7, .buy, stopPrice: 101, quantity: 1, limitPrice: 80), expect: [.accepted(7)]),
                step(
                    limit(8, owner: 8, .sell, price: 90, quantity: 1),
                    expect: [
                        .accepted(8),
                        trade(2, price: 90, quantity: 1, taker: .sell, maker: (3, 3, 9), taker: (8, 8, 0)),
                        .triggered(5), .triggered(4), .triggered(6),
                        trade(3, price: 90, quantity: 1, taker: .sell, maker: (3, 3, 8), taker: (5, 5, 0)),
                        trade(4, price: 90, quantity: 1, taker: .sell, maker: (3, 3, 7), taker: (4, 4, 0)),
                        trade(5, price: 90, quantity: 1, taker: .sell, maker: (3, 3, 6), taker: (6, 6, 0)),
                    ], .bestBid(90)),
            ]),
        MatchingScenario(
            "a stop whose condition already holds triggers on placement",
            lastTrade(at: 100) + [
                step(limit(3, owner: 3, .sell, price: 101, quantity: 5), expect: [.accepted(3)]),
                step(
                    stop(4, owner: 4, .buy, stopPrice: 99, quantity: 2),
                    expect: [
                        .accepted(4), .triggered(4),
                        trade(2, price: 101, quantity: 2, taker: .buy, maker: (3, 3, 3), taker: (4, 4, 0)),
                    ]),
                // Last 101: a stop-limit that cannot trade rests at its limit price.
                step(
                    stop(5, owner: 4, .buy, stopPrice: 100, quantity: 2, limitPrice: 100),
                    expect: [.accepted(5), .triggered(5)], .bestBid(100), .bestAsk(101)),
                // An IOC stop-limit's remainder expires.
                step(
                    stop(6, owner: 5, .buy, stopPrice: 101, quantity: 4, limitPrice: 101, .ioc),
                    expect: [
                        .accepted(6), .triggered(6),
                        trade(3, price: 101, quantity: 3, taker: .buy, maker: (3, 3, 0), taker: (6, 5, 1)),
                        expired(6, remaining: 1),
                    ], .bestAsk(nil)),
                // A triggered stop facing no liquidity is rejected after its trigger.
                step(
                    stop(7, owner: 6, .buy, stopPrice: 90, quantity: 1),
                    expect: [.accepted(7), .triggered(7), .rejected(7, .noLiquidity)], .bestBid(100)),
                step(.cancel(7), expect: [.rejected(7, .unknownOrder)]),
                // A sell stop above the last price triggers at once and sells into order 5.
                step(
                    stop(8, owner: 6, .sell, stopPrice: 105, quantity: 1),
                    expect: [
                        .accepted(8), .triggered(8),
                        trade(4, price: 100, quantity: 1, taker: .sell, maker: (5, 4, 1), taker: (8, 6, 0)),
                    ], .bestBid(100)),
            ]),
        MatchingScenario(
            "no stop triggers before the first trade",
            [
                step(stop(1, owner: 1, .buy, stopPrice: 1, quantity: 1), expect: [.accepted(1)]),
                step(stop(2, owner: 1, .sell, stopPrice: MarketSpec.maxTicks, quantity: 1), expect: [.accepted(2)]),
                step(limit(3, owner: 2, .sell, price: 50, quantity: 2), expect: [.accepted(3)]),
                step(
                    limit(4, owner: 3, .buy, price: 50, quantity: 1),
                    expect: [
                        .accepted(4), trade(1, price: 50, quantity: 1, taker: .buy, maker: (3, 2, 1), taker: (4, 3, 0)),
                        .triggered(1), .triggered(2),
                        // Order 1 (owner 1) buys the last lot; order 2 then finds no bid.
                        trade(2, price: 50, quantity: 1, taker: .buy, maker: (3, 2, 0), taker: (1, 1, 0)),
                        .rejected(2, .noLiquidity),
                    ], .bestBid(nil), .bestAsk(nil)),
            ]),
    ]

    static let amendScenarios: [MatchingScenario] = [
        MatchingScenario(
            "amend quantity down keeps priority; quantity counts what has filled",
            [
                step(limit(1, owner: 1, .buy, price: 100, quantity: 10), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .buy, price: 100, quantity: 5), expect: [.accepted(2)]),
                step(amend(1, quantity: 6), expect: [amended(1, price: 100, quantity: 6, remaining: 6)]),
                step(
                    limit(3, owner: 3, .sell, price: 100, quantity: 8),
                    expect: [
                        .accepted(3),
                        trade(1, price: 100, quantity: 6, taker: .sell, maker: (1, 1, 0), taker: (3, 3, 2)),
                        trade(2, price: 100, quantity: 2, taker: .sell, maker: (2, 2, 3), taker: (3, 3, 0)),
                    ]),
                step(amend(2, quantity: 4), expect: [amended(2, price: 100, quantity: 4, remaining: 2)]),
                step(amend(2, quantity: 2), expect: [.rejected(2, .invalidAmend)], .unchanged),
                step(amend(2, quantity: 1), expect: [.rejected(2, .invalidAmend)], .unchanged),
                step(amend(2, quantity: 4), expect: [.rejected(2, .invalidAmend)], .unchanged),
                step(amend(2, price: 100, quantity: 4), expect: [.rejected(2, .invalidAmend)], .unchanged),
                step(amend(2), expect: [.rejected(2, .invalidAmend)], .unchanged),
                step(amend(2, price: 0), expect: [.rejected(2, .invalidAmend)], .unchanged),
                step(amend(2, price: MarketSpec.maxTicks + 1), expect: [.rejected(2, .invalidAmend)], .unchanged),
                step(amend(2, quantity: MarketSpec.maxLots + 1), expect: [.rejected(2, .invalidAmend)], .unchanged),
                step(amend(1, quantity: 9), expect: [.rejected(1, .unknownOrder)], .unchanged),
                step(stop(4, owner: 1, .buy, stopPrice: 120, quantity: 1), expect: [.accepted(4)]),
                step(amend(4, quantity: 2), expect: [.rejected(4, .invalidAmend)], .unchanged),
            ]),
        MatchingScenario(
            "amend of price, or of quantity up, re-queues at the back",
            [
                step(limit(1, owner: 1, .buy, price: 100, quantity: 5), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .buy, price: 100, quantity: 5), expect: [.accepted(2)]),
                step(limit(3, owner: 3, .buy, price: 99, quantity: 5), expect: [.accepted(3)]),
                step(limit(4, owner: 4, .buy, price: 100, quantity: 1), expect: [.accepted(4)]),
                step(amend(1, price: 99), expect: [amended(1, price: 99, quantity: 5, remaining: 5)]),
                step(amend(2, quantity: 8), expect: [amended(2, price: 100, quantity: 8, remaining: 8)]),
                step(
                    limit(5, owner: 5, .sell, price: 99, quantity: 20),
                    expect: [
                        .accepted(5),
                        trade(1, price: 100, quantity: 1, taker: .sell, maker: (4, 4, 0), taker: (5, 5, 19)),
                        trade(2, price: 100, quantity: 8, taker: .sell, maker: (2, 2, 0), taker: (5, 5, 11)),
                        trade(3, price: 99, quantity: 5, taker: .sell, maker: (3, 3, 0), taker: (5, 5, 6)),
                        trade(4, price: 99, quantity: 5, taker: .sell, maker: (1, 1, 0), taker: (5, 5, 1)),
                    ], .bestBid(nil), .bestAsk(99)),
            ]),
        MatchingScenario(
            "amend that crosses trades as a taker, rests the rest, then triggers stops",
            [
                step(limit(1, owner: 1, .sell, price: 101, quantity: 3), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .buy, price: 99, quantity: 5), expect: [.accepted(2)]),
                step(stop(3, owner: 3, .buy, stopPrice: 101, quantity: 1), expect: [.accepted(3)]),
                step(limit(4, owner: 4, .sell, price: 102, quantity: 1), expect: [.accepted(4)]),
                step(
                    amend(2, price: 101),
                    expect: [
                        amended(2, price: 101, quantity: 5, remaining: 5),
                        trade(1, price: 101, quantity: 3, taker: .buy, maker: (1, 1, 0), taker: (2, 2, 2)),
                        .triggered(3),
                        trade(2, price: 102, quantity: 1, taker: .buy, maker: (4, 4, 0), taker: (3, 3, 0)),
                    ], .bestBid(101), .bestAsk(nil)),
                // Self-trade prevention applies to amends too.
                step(limit(5, owner: 2, .sell, price: 103, quantity: 1), expect: [.accepted(5)]),
                step(limit(6, owner: 6, .sell, price: 103, quantity: 1), expect: [.accepted(6)]),
                step(
                    amend(2, price: 103, quantity: 6),
                    expect: [
                        amended(2, price: 103, quantity: 6, remaining: 3), cancelled(5, remaining: 1, .selfTrade),
                        trade(3, price: 103, quantity: 1, taker: .buy, maker: (6, 6, 0), taker: (2, 2, 2)),
                    ], .bestBid(103), .bestAsk(nil)),
                step(
                    limit(7, owner: 7, .sell, price: 103, quantity: 2),
                    expect: [
                        .accepted(7),
                        trade(4, price: 103, quantity: 2, taker: .sell, maker: (2, 2, 0), taker: (7, 7, 0)),
                    ], .bestBid(nil)),
            ]),
        MatchingScenario(
            "post-only amend that would cross is rejected and changes nothing",
            [
                step(limit(1, owner: 1, .sell, price: 101, quantity: 5), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .buy, price: 99, quantity: 5, postOnly: true), expect: [.accepted(2)]),
                step(limit(3, owner: 3, .buy, price: 99, quantity: 5), expect: [.accepted(3)]),
                step(amend(2, price: 101), expect: [.rejected(2, .postOnlyWouldCross)], .unchanged),
                step(amend(2, price: 102, quantity: 1), expect: [.rejected(2, .postOnlyWouldCross)], .unchanged),
                // Quantity down keeps its place without the post-only check.
                step(amend(2, quantity: 4), expect: [amended(2, price: 99, quantity: 4, remaining: 4)]),
                step(amend(2, price: 100, quantity: 6), expect: [amended(2, price: 100, quantity: 6, remaining: 6)]),
                step(
                    limit(4, owner: 4, .sell, price: 99, quantity: 7),
                    expect: [
                        .accepted(4),
                        trade(1, price: 100, quantity: 6, taker: .sell, maker: (2, 2, 0), taker: (4, 4, 1)),
                        trade(2, price: 99, quantity: 1, taker: .sell, maker: (3, 3, 4), taker: (4, 4, 0)),
                    ], .bestBid(99), .bestAsk(101)),
            ]),
    ]
}
