import Testing
import Trading

@testable import Actors

/// A user's orders in memory stay bounded (`UserAccount.historyCapacity`): the oldest closed orders go, open
/// ones stay, and an order that closed in the last `trimGraceMillis` stays too — so a cancel of an old resting
/// order can read it back, and the read models have time to hold its last state — up to three times the
/// capacity, past which whatever is closed goes.
@Suite struct OrderHistoryTrimTests {
    static let capacity = UserAccount.historyCapacity
    static let grace = UserAccount.trimGraceMillis

    static func record(_ id: OrderID, at millis: Int64, status: OrderStatus = .new) -> OrderRecord {
        let request = OrderRequest(
            symbol: "BTC-USD", side: .buy, type: .limit, quantity: Quantity(lots: 1), price: Price(ticks: 100))
        let view = OrderView(
            orderID: id, clientOrderID: "c\(id)", symbol: "BTC-USD", side: .buy, type: .limit,
            price: Price(ticks: 100), stopPrice: nil, quantity: Quantity(lots: 1), filledQuantity: .zero,
            filledNotional: .zero, status: status, timeInForce: .gtc, postOnly: false, rejectReason: nil,
            createdAtMillis: millis, updatedAtMillis: millis, fills: [])
        return OrderRecord(view: view, owner: 1, request: request)
    }

    /// Closes an order the way the shard does: status and time of the change.
    static func close(_ id: OrderID, in account: inout UserAccount, at millis: Int64) {
        account.orders[id]!.view.status = .cancelled
        account.orders[id]!.view.updatedAtMillis = millis
    }

    @Test func theOldestClosedOrdersGoAndOpenOnesStay() {
        var account = UserAccount(user: 1)
        // Order 1 rests all along; every other order closes a minute and more before the trim.
        account.add(Self.record(1, at: 0))
        for id in OrderID(2)...OrderID(2 * Self.capacity) {
            account.add(Self.record(id, at: 0, status: .filled))
        }
        #expect(account.orderIDs.count == 2 * Self.capacity, "no trim up to twice the capacity")
        account.add(Self.record(OrderID(2 * Self.capacity + 1), at: Self.grace + 1))
        #expect(account.orderIDs.count == Self.capacity)
        #expect(account.orders[1]?.view.status == .new, "the open order stays")
        // Dropped: the oldest closed ones, 2 ... capacity + 2 (the excess, capacity + 1); kept: the newest.
        #expect(account.orders[2] == nil && account.orders[OrderID(Self.capacity + 2)] == nil)
        #expect(account.orders[OrderID(Self.capacity + 3)] != nil)
        #expect(account.clientOrderIDs["c2"] == nil && account.clientOrderIDs["c1"] == 1)
        #expect(account.orderIDs.count == account.orders.count)
        #expect(account.orderIDs == account.orderIDs.sorted(), "oldest first still")
        #expect(account.ordersTrimmedThrough == OrderID(Self.capacity + 2), "lists below it read the read models")
    }

    @Test func anOrderClosedWithinTheGraceStaysUntilALaterTrim() {
        var account = UserAccount(user: 1)
        account.add(Self.record(1, at: 0))
        for id in OrderID(2)...OrderID(2 * Self.capacity) {
            account.add(Self.record(id, at: 0, status: .filled))
        }
        // The oldest order, resting since the start, is cancelled just before the order that trims.
        let now = 10 * Self.grace
        Self.close(1, in: &account, at: now - 5)
        account.add(Self.record(OrderID(2 * Self.capacity + 1), at: now))
        #expect(account.orders[1]?.view.status == .cancelled, "closed 5 ms ago: kept")
        #expect(account.orderIDs.count == Self.capacity)
        #expect(account.orders[OrderID(Self.capacity + 2)] == nil, "a filled order in its place went")
        // The next trim, a grace later, lets it go.
        var id = OrderID(2 * Self.capacity + 2)
        while account.orders[1] != nil {
            account.add(Self.record(id, at: now + Self.grace, status: .filled))
            id += 1
        }
        #expect(account.orderIDs.count <= 2 * Self.capacity)
        // What that trim kept beyond the open order is what changed within its grace.
        let cutoff = now
        #expect(account.orders.values.allSatisfy { $0.view.status.isOpen || $0.view.updatedAtMillis >= cutoff })
    }

    @Test func recentClosingsCannotGrowTheHistoryPastThreeTimesTheCapacity() {
        var account = UserAccount(user: 1)
        var largest = 0
        // Every order closes at the moment it is placed: nothing is ever older than the grace.
        for id in OrderID(1)...OrderID(4 * Self.capacity) {
            account.add(Self.record(id, at: Int64(id), status: .filled))
            largest = max(largest, account.orderIDs.count)
        }
        #expect(largest == 3 * Self.capacity, "one order past three times the capacity trims at once")
        #expect(account.orders.count == account.orderIDs.count)
        #expect(account.orderIDs.count <= 3 * Self.capacity)
        #expect(account.orders[OrderID(4 * Self.capacity)] != nil, "the newest stays")
    }

    @Test func aSnapshotRestoresTheHistoryAsItWasWithoutTrimming() throws {
        var account = UserAccount(user: 1)
        // Closed within the grace: more than twice the capacity stays in memory, and in the snapshot.
        let count = 2 * Self.capacity + 300
        for id in OrderID(1)...OrderID(count) {
            account.add(Self.record(id, at: Int64(id), status: .filled))
        }
        #expect(account.orderIDs.count == count)
        var writer = BinaryWriter()
        AccountShardState.encode(account, into: &writer)
        var reader = BinaryReader(writer.bytes)
        let restored = try AccountShardState.decodeAccount(1, from: &reader)
        #expect(restored.orderIDs == account.orderIDs)
        #expect(restored.orders == account.orders)
        // The snapshot says how far trims reached: this history was never trimmed, long as it is.
        #expect(account.ordersTrimmedThrough == 0 && restored.ordersTrimmedThrough == 0)
        #expect(!restored.tradesTrimmed)
        // A "BAS2" user had no trim marks: a history this long may have been trimmed anywhere.
        var oldWriter = BinaryWriter()
        AccountShardState.encode(account, into: &oldWriter, layout: .v2)
        var oldReader = BinaryReader(oldWriter.bytes)
        #expect(try AccountShardState.decodeAccount(1, from: &oldReader, layout: .v2).ordersTrimmedThrough == .max)
        var short = UserAccount(user: 2)
        short.add(Self.record(1, at: 0, status: .filled))
        var shortWriter = BinaryWriter()
        AccountShardState.encode(short, into: &shortWriter, layout: .v2)
        var shortReader = BinaryReader(shortWriter.bytes)
        #expect(try AccountShardState.decodeAccount(2, from: &shortReader, layout: .v2).ordersTrimmedThrough == 0)
    }

    /// A trimmed history keeps how far its trims reached through a snapshot and through passivation, so
    /// its lists read the read models only below that order.
    @Test func theTrimMarksSurviveASnapshot() throws {
        var account = UserAccount(user: 1)
        for id in OrderID(1)...OrderID(2 * Self.capacity + 1) {
            account.add(Self.record(id, at: Int64(id) * Self.grace, status: .filled))
        }
        let mark = account.ordersTrimmedThrough
        #expect(mark > 0 && mark < .max)
        account.tradesTrimmed = true
        var writer = BinaryWriter()
        AccountShardState.encode(account, into: &writer)
        var reader = BinaryReader(writer.bytes)
        let restored = try AccountShardState.decodeAccount(1, from: &reader)
        try reader.expectEnd()
        #expect(restored.ordersTrimmedThrough == mark)
        #expect(restored.tradesTrimmed)
        #expect(AccountShardState.decodePassive(1, writer.bytes).ordersTrimmedThrough == mark)
    }
}
