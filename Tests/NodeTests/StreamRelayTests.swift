import Actors
import NIOCore
import Testing

@testable import Node

/// Routing by shard, event streams: which shard each channel lives with, and whole events out of the upstreams
/// a split stream merges.
struct StreamRelayTests {
    @Test("a market channel lives with its book, orders with the user's account shard")
    func channelShards() {
        let user: UInt64 = 42
        let account = ShardKey.account(index: ShardKey.accountShardIndex(user, shards: 1_024))
        #expect(ShardRouter.shard(ofChannel: "trades:BTC-USD", user: nil, accountShards: 1_024) == "symbol/BTC-USD")
        #expect(ShardRouter.shard(ofChannel: "orderbook:ETH-USD", user: user, accountShards: 1_024) == "symbol/ETH-USD")
        #expect(ShardRouter.shard(ofChannel: "orders", user: user, accountShards: 1_024) == account)
        // Left to the stream route to refuse, wherever it runs.
        #expect(ShardRouter.shard(ofChannel: "orders", user: nil, accountShards: 1_024) == nil)
        #expect(ShardRouter.shard(ofChannel: "candles:BTC-USD", user: user, accountShards: 1_024) == nil)
        #expect(ShardRouter.queryValue("ticker:BTC-USD,orders") == "ticker:BTC-USD,orders")
        #expect(ShardRouter.queryValue("a b&c") == "a%20b%26c")
    }

    @Test("an upstream's bytes go on only as whole events, ending at a blank line")
    func wholeEvents() {
        var pending = ByteBuffer(string: "data: {\"a\":1}\n\ndata: {\"b\"")
        #expect(StreamProxy.completeEvents(&pending).map { String(buffer: $0) } == "data: {\"a\":1}\n\n")
        #expect(String(buffer: pending) == "data: {\"b\"")
        #expect(StreamProxy.completeEvents(&pending) == nil)
        pending.writeString(":2}\n\n: heartbeat\n\ndata: {")
        #expect(
            StreamProxy.completeEvents(&pending).map { String(buffer: $0) } == "data: {\"b\":2}\n\n: heartbeat\n\n")
        #expect(String(buffer: pending) == "data: {")
        var empty = ByteBuffer()
        #expect(StreamProxy.completeEvents(&empty) == nil)
    }
}
