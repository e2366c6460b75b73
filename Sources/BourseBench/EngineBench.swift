import Trading

/// Matching-engine benchmark.
///
/// 1. An exchange-core-like mix around a book of ~1,000 resting orders: 9% GTC adds, 3% IOC,
///    6% cancels, 82% moves (price amends, i.e. cancel + replace, which may cross and trade).
/// 2. A liquibook-style add-only workload: limit orders on both sides in one overlapping price band,
///    so that most of them trade.
///
/// Commands are generated first (by simulating them on a book, so every cancel and move names a live
/// order), then replayed into a fresh book: once untimed for throughput (best of several runs), once with
/// a clock read around every command for the latency distribution.
enum EngineBench {
    static func run(arguments: [String]) {
        let count = Int(option("orders", in: arguments) ?? "") ?? 3_000_000
        let seed = UInt64(option("seed", in: arguments) ?? "") ?? 42
        let runs = Int(option("runs", in: arguments) ?? "") ?? 5

        let mix = exchangeCoreMix(count: count, seed: seed)
        let mixResult = measure(name: "exchange-core mix", commands: mix, runs: runs)
        let addOnly = addOnlyWorkload(count: count, seed: seed &+ 1)
        let addResult = measure(name: "add-only overlapping", commands: addOnly, runs: runs)
        print(
            "{\"mode\":\"engine\",\"orders\":\(count),\"seed\":\(seed),\"mix\":\(mixResult.json),\"add_only\":\(addResult.json)}"
        )
    }

    struct Result {
        var opsPerSecond: Double
        var latency: Percentiles
        var trades: Int
        var resting: Int
        var json: String {
            "{\"ops_per_sec\":\(Int(opsPerSecond)),\"p50_ns\":\(latency.p50),\"p99_ns\":\(latency.p99),"
                + "\"p999_ns\":\(latency.p999),\"max_ns\":\(latency.max),\"trades\":\(trades),\"resting_at_end\":\(resting)}"
        }
    }

    static func measure(name: String, commands: [BookCommand], runs: Int) -> Result {
        var best = 0.0
        var resting = 0
        for _ in 0..<runs {
            var book = OrderBook(expectedOrders: 4096)
            var events: [BookEvent] = []
            events.reserveCapacity(256)
            var eventCount = 0
            let start = nowNanos()
            for command in commands {
                events.removeAll(keepingCapacity: true)
                book.apply(command, into: &events)
                eventCount &+= events.count
            }
            let elapsed = nowNanos() - start
            best = max(best, Double(commands.count) / (Double(elapsed) / 1e9))
            // Keep the event count observable so the optimiser cannot drop the work.
            if eventCount == 0 { print("no events") }
            resting = book.restingCount
        }
        var samples = [UInt64](repeating: 0, count: commands.count)
        var book = OrderBook(expectedOrders: 4096)
        var events: [BookEvent] = []
        events.reserveCapacity(256)
        var tradeEvents = 0
        for (i, command) in commands.enumerated() {
            events.removeAll(keepingCapacity: true)
            let start = nowNanos()
            book.apply(command, into: &events)
            samples[i] = nowNanos() &- start
            for event in events { if case .trade = event.kind { tradeEvents += 1 } }
        }
        let latency = Percentiles(&samples)
        print(
            "\(name): \(commands.count) commands, \(formatRate(best)) ops/s (best of \(runs)), "
                + "latency p50 \(latency.p50) ns, p99 \(latency.p99) ns, p99.9 \(latency.p999) ns, "
                + "max \(latency.max) ns; \(tradeEvents) trades, \(resting) orders resting at the end")
        return Result(opsPerSecond: best, latency: latency, trades: tradeEvents, resting: resting)
    }

    /// Live order ids with O(1) random pick and removal.
    struct LiveOrders {
        var ids: [OrderID] = []
        var position: [OrderID: Int] = [:]
        mutating func add(_ id: OrderID) {
            position[id] = ids.count
            ids.append(id)
        }
        mutating func remove(_ id: OrderID) {
            guard let at = position.removeValue(forKey: id) else { return }
            let last = ids.removeLast()
            if at < ids.count {
                ids[at] = last
                position[last] = at
            }
        }
    }

    static func exchangeCoreMix(count: Int, seed: UInt64) -> [BookCommand] {
        var random = BenchRandom(seed: seed)
        var book = OrderBook(expectedOrders: 4096)
        var live = LiveOrders()
        var commands: [BookCommand] = []
        commands.reserveCapacity(count)
        var nextID: OrderID = 1
        var mid: Int64 = 100_000
        let target = 1_000
        var events: [BookEvent] = []
        var counts = [0, 0, 0, 0]
        var sizes = 0
        while commands.count < count {
            if random.below(64) == 0 { mid += random.int(-2...2) }
            let roll = random.below(100)
            let command: BookCommand
            // Adds keep the book near its target size, as exchange-core's generator does.
            let wantAdd = live.ids.count < target ? roll < 9 || random.below(100) < 12 : roll < 9
            if live.ids.isEmpty || wantAdd {
                // GTC add: mostly passive, a few ticks from the mid; some cross.
                let side: Side = random.below(2) == 0 ? .buy : .sell
                let offset = random.int(-3...40)
                let price = side == .buy ? mid - offset : mid + offset
                command = .place(
                    .limit(nextID, owner: random.next() % 2_000, side, price: price, quantity: random.int(1...100)))
                nextID += 1
                counts[0] += 1
            } else if roll < 12 {
                // IOC: aggressive, a few ticks through the mid.
                let side: Side = random.below(2) == 0 ? .buy : .sell
                let through = random.int(0...10)
                let price = side == .buy ? mid + through : mid - through
                command = .place(
                    .limit(
                        nextID, owner: random.next() % 2_000, side, price: price, quantity: random.int(1...60),
                        tif: .ioc))
                nextID += 1
                counts[1] += 1
            } else if roll < 18 {
                command = .cancel(live.ids[random.below(live.ids.count)])
                counts[2] += 1
            } else {
                // Move: re-price a live order a few ticks, toward or away from the mid.
                let id = live.ids[random.below(live.ids.count)]
                let order = book.order(id)!
                var price = order.price.ticks + random.int(-8...8)
                if price == order.price.ticks { price += 1 }
                command = .amend(id, price: Price(ticks: max(1, price)), quantity: nil)
                counts[3] += 1
            }
            events.removeAll(keepingCapacity: true)
            book.apply(command, into: &events)
            track(command, events, book, &live)
            commands.append(command)
            sizes += live.ids.count
        }
        let percent = counts.map { "\(($0 * 1000 / max(1, count) + 5) / 10)%" }
        print(
            "exchange-core mix generated: GTC \(percent[0]), IOC \(percent[1]), cancel \(percent[2]), "
                + "move \(percent[3]); mean book size \(sizes / max(1, count)) orders")
        return commands
    }

    static func addOnlyWorkload(count: Int, seed: UInt64) -> [BookCommand] {
        var random = BenchRandom(seed: seed)
        var commands: [BookCommand] = []
        commands.reserveCapacity(count)
        for id in 1...count {
            let side: Side = random.below(2) == 0 ? .buy : .sell
            let price = 10_000 + random.int(-50...50)
            commands.append(
                .place(
                    .limit(OrderID(id), owner: random.next() % 2_000, side, price: price, quantity: random.int(1...100))
                ))
        }
        return commands
    }

    static func track(_ command: BookCommand, _ events: [BookEvent], _ book: OrderBook, _ live: inout LiveOrders) {
        for event in events {
            switch event.kind {
            case .trade(let trade):
                if trade.makerRemaining.lots == 0 { live.remove(trade.makerOrderID) }
            case .cancelled(let id, _, _):
                live.remove(id)
            default:
                break
            }
        }
        switch command {
        case .place(let order):
            if book.order(order.id) != nil { live.add(order.id) }
        case .amend(let id, _, _):
            if book.order(id) == nil { live.remove(id) }
        case .cancel:
            break
        }
    }
}
