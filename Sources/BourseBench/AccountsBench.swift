import Actors
import Trading

#if canImport(Glibc)
    import Glibc
#endif

/// Passivation of idle users: `bourse-bench accounts [--users N] [--orders K]`.
///
/// Fills one account shard with N users, each with K orders of history (half filled against another
/// shard's order, half cancelled: ledger rows, fills and order records as real trading leaves them), then
/// measures the heap in use (glibc's `mallinfo2`) with every user active, after one sweep has passivated
/// them all, and after every user has been activated again; and the time to passivate and to activate a
/// user. Prints a human summary and, as the last line, one JSON object with the figures.
enum AccountsBench {
    static func run(arguments: [String]) {
        let users = Int(option("users", in: arguments) ?? "") ?? 10_000
        let orders = Int(option("orders", in: arguments) ?? "") ?? 50
        guard users > 0, orders > 0 else {
            print("usage: bourse-bench accounts [--users N] [--orders K]")
            print(#"{"mode":"accounts","error":"bad arguments"}"#)
            return
        }
        do {
            try measure(users: users, orders: orders)
        } catch {
            print("accounts benchmark failed: \(error)")
            print(#"{"mode":"accounts","error":"\#(error.code.rawValue)"}"#)
        }
    }

    static func measure(users: Int, orders: Int) throws(BourseError) {
        let spec = try MarketSpec(
            symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.0001", minQuantity: "0.0001",
            makerFeeBps: 10, takerFeeBps: 20)
        let baseline = heapInUse()
        var state = try populated(users: users, orders: orders, spec: spec)
        let active = heapInUse() - baseline
        let snapshotBytes = state.snapshot().count

        state.passivateIdle()  // every user was used in this period: nothing yet
        let passivateStart = ContinuousClock.now
        let passivated = state.passivateIdle().passivated
        let passivateTime = ContinuousClock.now - passivateStart
        let passive = heapInUse() - baseline
        guard passivated == users, state.users.isEmpty else {
            throw BourseError(.internal, "passivated \(passivated) of \(users) users")
        }

        let activateStart = ContinuousClock.now
        for user in 1...UserID(users) { state.activate(user) }
        let activateTime = ContinuousClock.now - activateStart
        let reactivated = heapInUse() - baseline
        guard state.passive.isEmpty, state.users.count == users else {
            throw BourseError(.internal, "activated \(state.users.count) of \(users) users")
        }

        let perActive = Double(active) / Double(users)
        let perPassive = Double(passive) / Double(users)
        let passivateMicros = micros(passivateTime) / Double(users)
        let activateMicros = micros(activateTime) / Double(users)
        print("accounts: \(users) users × \(orders) orders of history in one account shard")
        print("  heap in use, all active:     \(active / 1_048_576) MiB (\(Int(perActive)) B per user)")
        print("  heap in use, all passivated: \(passive / 1_048_576) MiB (\(Int(perPassive)) B per user)")
        print("  heap in use, activated again: \(reactivated / 1_048_576) MiB")
        print("  shard snapshot: \(snapshotBytes / 1_048_576) MiB")
        print("  passivate: \(rounded(passivateMicros)) µs per user; activate: \(rounded(activateMicros)) µs per user")
        print(
            #"{"mode":"accounts","users":\#(users),"orders_per_user":\#(orders),"#
                + #""active_bytes_per_user":\#(Int(perActive)),"passive_bytes_per_user":\#(Int(perPassive)),"#
                + #""reactivated_bytes":\#(reactivated),"snapshot_bytes":\#(snapshotBytes),"#
                + #""passivate_us_per_user":\#(rounded(passivateMicros)),"#
                + #""activate_us_per_user":\#(rounded(activateMicros))}"#)
    }

    /// One shard (index 0) whose users each deposited, placed `orders` buy orders, half of them filled by a
    /// taker of shard 1 and half cancelled.
    static func populated(users: Int, orders: Int, spec: MarketSpec) throws(BourseError) -> AccountShardState {
        var state = AccountShardState(index: 0, markets: [spec.symbol: spec])
        var now: Int64 = 1_700_000_000_000
        var sequence: UInt64 = 0
        var tradeID: UInt64 = 0
        let price = try spec.price(parsing: "50000")
        let quantity = try spec.quantity(parsing: "0.01")
        for user in 1...UserID(users) {
            now += 1
            _ = try state.apply(
                .init(
                    timestampMillis: now,
                    command: .deposit(user: user, currency: "USD", amount: try Amount(parsing: "1000000"), key: nil)))
            for index in 0..<orders {
                now += 1
                let request = OrderRequest(
                    symbol: spec.symbol, side: .buy, type: .limit, quantity: quantity, price: price,
                    clientOrderID: "c-\(user)-\(index)")
                guard
                    case .order(let order, _) = try state.apply(
                        .init(timestampMillis: now, command: .place(user: user, request: request, protection: nil)))
                else { throw BourseError(.internal, "no order") }
                sequence += 1
                var events = [BookEvent(sequence: sequence, kind: .accepted(order.id))]
                sequence += 1
                if index.isMultiple(of: 2) {
                    tradeID += 1
                    let trade = Trade(
                        id: tradeID, price: price, quantity: quantity, takerSide: .sell, makerOrderID: order.id,
                        makerOwner: user, makerRemaining: .zero,
                        takerOrderID: OrderIDs.make(shard: 1, counter: tradeID), takerOwner: UserID(users) + 1,
                        takerRemaining: .zero)
                    events.append(BookEvent(sequence: sequence, kind: .trade(trade)))
                } else {
                    events.append(
                        BookEvent(sequence: sequence, kind: .cancelled(order.id, remaining: quantity, reason: .user)))
                }
                _ = try state.apply(
                    .init(timestampMillis: now, command: .bookEvents(symbol: spec.symbol, events: events)))
            }
        }
        return state
    }

    /// Resident memory after glibc has returned the memory it holds free to the system (`malloc_trim`, looked
    /// up at run time: Swift's Glibc module does not export malloc.h), from /proc/self/statm.
    static func heapInUse() -> Int {
        #if canImport(Glibc)
            typealias Trim = @convention(c) (Int) -> Int32
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
                _ = unsafeBitCast(symbol, to: Trim.self)(0)
            }
            guard let file = fopen("/proc/self/statm", "r") else { return 0 }
            defer { fclose(file) }
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = fread(&buffer, 1, buffer.count - 1, file)
            let fields = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ")
            guard fields.count > 1, let resident = Int(fields[1]) else { return 0 }
            return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
            0
        #endif
    }

    static func micros(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
