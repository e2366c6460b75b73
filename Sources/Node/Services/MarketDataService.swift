import Actors
import Feeds
import Logging
import ServiceLifecycle
import Storage
import Synchronization
import Trading

/// The markets' reference feeds and paper liquidity, each run while this node's exchange serves its market's
/// book (a cluster's standby runs none and starts them when it takes over; routing by shard, each node runs
/// those of the books it serves). Per market: the feed's ticks are journaled in the
/// market in batches (they build its candles, which run its strategies), and the latest price is handed to
/// the market's liquidity provider, which requotes around it.
struct MarketDataService: Service {
    let exchange: Exchange
    let settings: MarketDataSettings
    let users: any UserStore
    let logger: Logger

    /// The system account that provides paper liquidity (it cannot log in: see `AuthService.login`).
    static let liquidityUsername = "system:liquidity"

    func run() async throws {
        guard !settings.feeds.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            let liquidityUser = LiquidityUserCache()
            await withTaskGroup(of: Void.self) { group in
                for (symbol, feed) in settings.feeds {
                    group.addTask {
                        // Each market's feed runs while this node serves its book: all of them on the active node
                        // (active/standby), a node's share routing by shard; and starts again when it comes back.
                        while await waitUntil(serving: true, symbol: symbol) {
                            logger.info("market data feed starting", metadata: ["symbol": "\(symbol)"])
                            let user = await cachedLiquidityUser(liquidityUser)
                            let provider = user.flatMap { user in
                                settings.liquidity[symbol].map {
                                    LiquidityProvider(
                                        exchange: exchange, user: user, symbol: symbol, configuration: $0,
                                        logger: logger)
                                }
                            }
                            // Until this node stops serving the book (the watcher, true, ends first); a feed that
                            // has ended (a replay without loop) just stays still.
                            await withTaskGroup(of: Bool.self) { market in
                                market.addTask { await waitUntil(serving: false, symbol: symbol) }
                                market.addTask {
                                    await runMarket(symbol, feed: feed, liquidity: provider)
                                    return false
                                }
                                while let watcherEnded = await market.next(), !watcherEnded {}
                                market.cancelAll()
                            }
                            logger.info("market data feed stopped", metadata: ["symbol": "\(symbol)"])
                        }
                    }
                }
            }
        }
    }

    /// The liquidity account's id, looked up (or created) once, by the first market that needs it; nil when
    /// no market has paper liquidity, or the store failed (then tried again at the next start of a feed).
    private func cachedLiquidityUser(_ cache: LiquidityUserCache) async -> UserID? {
        guard !settings.liquidity.isEmpty else { return nil }
        if let known = cache.user.withLock({ $0 }) { return known }
        let user = await liquidityUserID()
        cache.user.withLock { $0 = user }
        return user
    }

    final class LiquidityUserCache: Sendable {
        let user = Mutex<UserID?>(nil)
    }

    /// One market: the feed, the pump into the exchange and the liquidity provider, until cancelled.
    private func runMarket(_ symbol: String, feed: FeedConfiguration, liquidity: LiquidityProvider?) async {
        let logger = {
            var logger = self.logger
            logger[metadataKey: "symbol"] = "\(symbol)"
            return logger
        }()
        let buffer = TickBuffer()
        let (references, latest) = AsyncStream.makeStream(of: Price.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            if let liquidity {
                group.addTask {
                    // The account may live on a node that is not serving it yet (a cluster starting, a shard
                    // moving): funding is tried again every second until it is done.
                    var failures = 0
                    while !Task.isCancelled {
                        do {
                            try await liquidity.fund()
                            break
                        } catch {
                            if failures == 0 {
                                logger.warning(
                                    "liquidity account not funded yet; trying again", metadata: ["error": "\(error)"])
                            }
                            failures += 1
                            try? await Task.sleep(for: .seconds(1))
                        }
                    }
                    await liquidity.run(references: references)
                }
            }
            group.addTask {
                var wakeups = buffer.wakeups.makeAsyncIterator()
                var dropped = 0
                while await wakeups.next() != nil {
                    if buffer.droppedCount > dropped {
                        logger.warning(
                            "reference ticks dropped: the exchange fell behind the feed",
                            metadata: ["dropped": "\(buffer.droppedCount - dropped)"])
                        dropped = buffer.droppedCount
                    }
                    let ticks = buffer.take().map { (priceUnits: $0.priceUnits, quantityUnits: $0.quantityUnits) }
                    guard !ticks.isEmpty else { continue }
                    do {
                        let prints = try await exchange.referenceTicks(symbol: symbol, ticks)
                        if let price = prints.last?.price { latest.yield(price) }
                    } catch {
                        logger.debug("reference ticks not journaled", metadata: ["error": "\(error)"])
                    }
                }
                latest.finish()
            }
            group.addTask {
                do {
                    try await FeedRunner(configuration: feed, logger: logger).run { buffer.append($0) }
                } catch  where !Task.isCancelled {
                    logger.error("feed stopped", metadata: ["error": "\(error)"])
                } catch {}
                buffer.finish()
            }
            // When the feed ends (cancelled, a replay without loop, or a bad recording), so does the pump, and
            // then the provider.
            await group.waitForAll()
        }
    }

    /// Polls the exchange until it serves `symbol`'s book (or stops serving it); false when cancelled first.
    private func waitUntil(serving: Bool, symbol: String) async -> Bool {
        while !Task.isCancelled {
            let serves = await exchange.isReady() && exchange.serves(ShardKey.symbol(symbol))
            if serves == serving { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// The liquidity account's user id, created at the first start (nil, logged, if the store fails).
    private func liquidityUserID() async -> UserID? {
        do {
            if let user = try await users.user(named: Self.liquidityUsername) { return user.id }
            do {
                return try await users.createUser(
                    username: Self.liquidityUsername, passwordHash: "!", role: "system",
                    nowMillis: Exchange.wallClockMillis()
                ).id
            } catch let error as BourseError where error.code == .conflict {
                return try await users.user(named: Self.liquidityUsername)?.id
            }
        } catch {
            logger.error("no liquidity account: paper liquidity is off", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
