import TestSupport
import Trading

/// Scenarios of limit and market orders: priority, partial fills, time in force, post-only, market protection,
/// self-trade prevention, cancels, duplicate ids and invalid orders.
extension MatchingScenario {
    static let all: [MatchingScenario] = orderScenarios + stopScenarios + amendScenarios

    static let orderScenarios: [MatchingScenario] = [
        MatchingScenario(
            "price-time priority: better price first, then oldest first",
            [
                step(limit(1, owner: 1, .sell, price: 101, quantity: 5), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .sell, price: 100, quantity: 5), expect: [.accepted(2)]),
                step(limit(3, owner: 3, .sell, price: 100, quantity: 5), expect: [.accepted(3)], .bestAsk(100)),
                step(
                    limit(4, owner: 4, .buy, price: 101, quantity: 12),
                    expect: [
                        .accepted(4),
                        trade(1, price: 100, quantity: 5, taker: .buy, maker: (2, 2, 0), taker: (4, 4, 7)),
                        trade(2, price: 100, quantity: 5, taker: .buy, maker: (3, 3, 0), taker: (4, 4, 2)),
                        trade(3, price: 101, quantity: 2, taker: .buy, maker: (1, 1, 3), taker: (4, 4, 0)),
                    ], .bestAsk(101), .bestBid(nil)),
            ]),
        MatchingScenario(
            "partial fills print at the maker price and the remainder rests",
            [
                step(limit(1, owner: 1, .buy, price: 100, quantity: 10), expect: [.accepted(1)]),
                step(
                    limit(2, owner: 2, .sell, price: 99, quantity: 4),
                    expect: [
                        .accepted(2),
                        trade(1, price: 100, quantity: 4, taker: .sell, maker: (1, 1, 6), taker: (2, 2, 0)),
                    ], .bestBid(100), .bestAsk(nil)),
                step(
                    limit(3, owner: 3, .sell, price: 100, quantity: 10),
                    expect: [
                        .accepted(3),
                        trade(2, price: 100, quantity: 6, taker: .sell, maker: (1, 1, 0), taker: (3, 3, 4)),
                    ], .bestBid(nil), .bestAsk(100)),
                step(
                    limit(4, owner: 4, .buy, price: 105, quantity: 1),
                    expect: [
                        .accepted(4),
                        trade(3, price: 100, quantity: 1, taker: .buy, maker: (3, 3, 3), taker: (4, 4, 0)),
                    ], .bestAsk(100)),
            ]),
        MatchingScenario(
            "IOC remainder expires",
            [
                step(limit(1, owner: 1, .sell, price: 100, quantity: 3), expect: [.accepted(1)]),
                step(
                    limit(2, owner: 2, .buy, price: 101, quantity: 5, .ioc),
                    expect: [
                        .accepted(2),
                        trade(1, price: 100, quantity: 3, taker: .buy, maker: (1, 1, 0), taker: (2, 2, 2)),
                        expired(2, remaining: 2),
                    ], .bestBid(nil), .bestAsk(nil)),
                step(
                    limit(3, owner: 2, .buy, price: 99, quantity: 5, .ioc),
                    expect: [.accepted(3), expired(3, remaining: 5)],
                    .bestBid(nil)),
            ]),
        MatchingScenario(
            "FOK: unfillable is rejected and changes nothing; fillable trades in full",
            [
                step(limit(1, owner: 1, .sell, price: 100, quantity: 3), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .sell, price: 102, quantity: 5), expect: [.accepted(2)]),
                step(
                    limit(3, owner: 3, .buy, price: 101, quantity: 5, .fok),
                    expect: [.rejected(3, .fillOrKillUnfillable)],
                    .unchanged),
                step(
                    limit(4, owner: 3, .buy, price: 102, quantity: 8, .fok),
                    expect: [
                        .accepted(4),
                        trade(1, price: 100, quantity: 3, taker: .buy, maker: (1, 1, 0), taker: (4, 3, 5)),
                        trade(2, price: 102, quantity: 5, taker: .buy, maker: (2, 2, 0), taker: (4, 3, 0)),
                    ], .bestAsk(nil)),
            ]),
        MatchingScenario(
            "FOK does not count the owner's own orders",
            [
                step(limit(1, owner: 1, .sell, price: 100, quantity: 5), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .sell, price: 100, quantity: 3), expect: [.accepted(2)]),
                step(
                    limit(3, owner: 1, .buy, price: 100, quantity: 5, .fok),
                    expect: [.rejected(3, .fillOrKillUnfillable)],
                    .unchanged),
                step(
                    limit(4, owner: 1, .buy, price: 100, quantity: 3, .fok),
                    expect: [
                        .accepted(4), cancelled(1, remaining: 5, .selfTrade),
                        trade(1, price: 100, quantity: 3, taker: .buy, maker: (2, 2, 0), taker: (4, 1, 0)),
                    ], .bestAsk(nil), .bestBid(nil)),
            ]),
        MatchingScenario(
            "post-only that would cross is rejected; one that does not rests",
            [
                step(limit(1, owner: 1, .sell, price: 100, quantity: 5), expect: [.accepted(1)]),
                step(
                    limit(2, owner: 2, .buy, price: 100, quantity: 5, postOnly: true),
                    expect: [.rejected(2, .postOnlyWouldCross)], .unchanged),
                step(
                    limit(3, owner: 2, .buy, price: 99, quantity: 5, postOnly: true), expect: [.accepted(3)],
                    .bestBid(99),
                    .bestAsk(100)),
                step(
                    limit(4, owner: 2, .sell, price: 99, quantity: 1, postOnly: true),
                    expect: [.rejected(4, .postOnlyWouldCross)], .unchanged),
                step(
                    limit(5, owner: 2, .buy, price: 99, quantity: 5, .ioc, postOnly: true),
                    expect: [.rejected(5, .invalidOrder)], .unchanged),
            ]),
        MatchingScenario(
            "market orders stop at the derived 5% protection price and expire the rest",
            [
                step(limit(1, owner: 1, .sell, price: 100, quantity: 2), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .sell, price: 104, quantity: 2), expect: [.accepted(2)]),
                step(limit(3, owner: 3, .sell, price: 105, quantity: 2), expect: [.accepted(3)]),
                step(limit(4, owner: 4, .sell, price: 106, quantity: 2), expect: [.accepted(4)]),
                // Protection: ceil(100 × 1.05) = 105.
                step(
                    market(5, owner: 5, .buy, quantity: 10),
                    expect: [
                        .accepted(5),
                        trade(1, price: 100, quantity: 2, taker: .buy, maker: (1, 1, 0), taker: (5, 5, 8)),
                        trade(2, price: 104, quantity: 2, taker: .buy, maker: (2, 2, 0), taker: (5, 5, 6)),
                        trade(3, price: 105, quantity: 2, taker: .buy, maker: (3, 3, 0), taker: (5, 5, 4)),
                        expired(5, remaining: 4),
                    ], .bestAsk(106)),
                // An explicit protection price below the best ask: no liquidity.
                step(
                    market(6, owner: 5, .buy, quantity: 1, protection: 105), expect: [.rejected(6, .noLiquidity)],
                    .unchanged),
                step(
                    market(7, owner: 5, .buy, quantity: 3, protection: 200, .fok),
                    expect: [.rejected(7, .fillOrKillUnfillable)], .unchanged),
                step(limit(8, owner: 1, .buy, price: 100, quantity: 1), expect: [.accepted(8)]),
                step(limit(9, owner: 2, .buy, price: 95, quantity: 1), expect: [.accepted(9)]),
                step(limit(10, owner: 3, .buy, price: 94, quantity: 1), expect: [.accepted(10)]),
                // Protection: floor(100 × 0.95) = 95. A GTC market order expires too.
                step(
                    market(11, owner: 4, .sell, quantity: 5, .gtc),
                    expect: [
                        .accepted(11),
                        trade(4, price: 100, quantity: 1, taker: .sell, maker: (8, 1, 0), taker: (11, 4, 4)),
                        trade(5, price: 95, quantity: 1, taker: .sell, maker: (9, 2, 0), taker: (11, 4, 3)),
                        expired(11, remaining: 3),
                    ], .bestBid(94), .bestAsk(106)),
                // An explicit protection price reaching further than 5%.
                step(
                    market(12, owner: 5, .sell, quantity: 2, protection: 90),
                    expect: [
                        .accepted(12),
                        trade(6, price: 94, quantity: 1, taker: .sell, maker: (10, 3, 0), taker: (12, 5, 1)),
                        expired(12, remaining: 1),
                    ], .bestBid(nil)),
            ]),
        MatchingScenario(
            "market order without liquidity is rejected; one facing only its owner's orders expires",
            [
                step(market(1, owner: 1, .buy, quantity: 5), expect: [.rejected(1, .noLiquidity)], .unchanged),
                step(limit(2, owner: 1, .buy, price: 100, quantity: 5), expect: [.accepted(2)]),
                step(
                    market(3, owner: 1, .sell, quantity: 5),
                    expect: [.accepted(3), cancelled(2, remaining: 5, .selfTrade), expired(3, remaining: 5)],
                    .bestBid(nil)),
                step(market(4, owner: 2, .sell, quantity: 5), expect: [.rejected(4, .noLiquidity)], .unchanged),
            ]),
        MatchingScenario(
            "self-trade prevention cancels the resting order and matching goes on",
            [
                step(limit(1, owner: 1, .sell, price: 100, quantity: 5), expect: [.accepted(1)]),
                step(limit(2, owner: 2, .sell, price: 100, quantity: 5), expect: [.accepted(2)]),
                step(limit(3, owner: 1, .sell, price: 101, quantity: 5), expect: [.accepted(3)]),
                step(limit(4, owner: 3, .sell, price: 102, quantity: 5), expect: [.accepted(4)]),
                step(
                    limit(5, owner: 1, .buy, price: 101, quantity: 7),
                    expect: [
                        .accepted(5), cancelled(1, remaining: 5, .selfTrade),
                        trade(1, price: 100, quantity: 5, taker: .buy, maker: (2, 2, 0), taker: (5, 1, 2)),
                        cancelled(3, remaining: 5, .selfTrade),
                    ], .bestBid(101), .bestAsk(102)),
            ]),
        MatchingScenario(
            "cancel of a resting order, a stop order and an unknown id",
            [
                step(limit(1, owner: 1, .buy, price: 100, quantity: 5), expect: [.accepted(1)]),
                step(
                    limit(2, owner: 2, .sell, price: 100, quantity: 2),
                    expect: [
                        .accepted(2),
                        trade(1, price: 100, quantity: 2, taker: .sell, maker: (1, 1, 3), taker: (2, 2, 0)),
                    ]),
                step(.cancel(1), expect: [cancelled(1, remaining: 3, .user)], .bestBid(nil)),
                step(stop(3, owner: 1, .buy, stopPrice: 120, quantity: 4), expect: [.accepted(3)]),
                step(.cancel(3), expect: [cancelled(3, remaining: 4, .user)]),
                step(.cancel(3), expect: [.rejected(3, .unknownOrder)], .unchanged),
                step(.cancel(2), expect: [.rejected(2, .unknownOrder)], .unchanged),
                step(.cancel(77), expect: [.rejected(77, .unknownOrder)], .unchanged),
            ]),
        MatchingScenario(
            "duplicate ids are rejected; a finished order's id may be used again",
            [
                step(limit(1, owner: 1, .buy, price: 100, quantity: 5), expect: [.accepted(1)]),
                step(
                    limit(1, owner: 2, .sell, price: 100, quantity: 5), expect: [.rejected(1, .duplicateOrderID)],
                    .unchanged),
                step(stop(2, owner: 1, .sell, stopPrice: 90, quantity: 1), expect: [.accepted(2)]),
                step(
                    limit(2, owner: 1, .buy, price: 50, quantity: 1), expect: [.rejected(2, .duplicateOrderID)],
                    .unchanged),
                // The duplicate check comes before the structural checks.
                step(
                    limit(1, owner: 1, .buy, price: 0, quantity: 0), expect: [.rejected(1, .duplicateOrderID)],
                    .unchanged),
                step(.cancel(1), expect: [cancelled(1, remaining: 5, .user)]),
                step(limit(1, owner: 3, .buy, price: 99, quantity: 1), expect: [.accepted(1)], .bestBid(99)),
            ]),
        MatchingScenario(
            "structurally invalid orders are rejected",
            invalidOrders.map { order in
                step(.place(order), expect: [.rejected(order.id, .invalidOrder)], .unchanged)
            }),
    ]

    /// One order per `invalidOrder` rule.
    static let invalidOrders: [NewOrder] = {
        let p = Price(ticks: 100)
        let q = Quantity(lots: 1)
        return [
            NewOrder(id: 1, owner: 1, side: .buy, price: p, quantity: Quantity(lots: 0)),
            NewOrder(id: 2, owner: 1, side: .buy, price: p, quantity: Quantity(lots: -3)),
            NewOrder(id: 3, owner: 1, side: .buy, price: p, quantity: Quantity(lots: MarketSpec.maxLots + 1)),
            NewOrder(id: 4, owner: 1, side: .buy, price: Price(ticks: 0), quantity: q),
            NewOrder(id: 5, owner: 1, side: .sell, price: Price(ticks: MarketSpec.maxTicks + 1), quantity: q),
            NewOrder(id: 6, owner: 1, side: .buy, price: nil, quantity: q),
            NewOrder(id: 7, owner: 1, side: .buy, price: p, stopPrice: p, quantity: q),
            NewOrder(id: 8, owner: 1, side: .buy, type: .market, price: nil, stopPrice: p, quantity: q),
            NewOrder(id: 9, owner: 1, side: .buy, type: .stop, price: nil, quantity: q),
            NewOrder(id: 10, owner: 1, side: .buy, type: .stopLimit, price: p, quantity: q),
            NewOrder(id: 11, owner: 1, side: .buy, type: .stopLimit, price: nil, stopPrice: p, quantity: q),
            NewOrder(id: 12, owner: 1, side: .buy, type: .stop, price: nil, stopPrice: Price(ticks: -1), quantity: q),
            NewOrder(id: 13, owner: 1, side: .buy, type: .market, price: nil, quantity: q, postOnly: true),
            NewOrder(id: 14, owner: 1, side: .buy, type: .stop, price: nil, stopPrice: p, quantity: q, postOnly: true),
            NewOrder(id: 15, owner: 1, side: .buy, price: p, quantity: q, timeInForce: .fok, postOnly: true),
            NewOrder(id: 16, owner: 1, side: .sell, type: .market, price: Price(ticks: 0), quantity: q),
        ]
    }()
}
