import Cluster
import Testing

/// The hash pins where every shard lives: these values were computed by an independent
/// implementation (FNV-1a 64 + SplitMix64 finaliser, in Python), so a change to the function, or a
/// platform that computes it differently, fails here before it moves shards in a running cluster.
@Suite struct StableHashTests {
    @Test func knownValues() {
        #expect(StableHash.hash("") == 0xF52A_15E9_A9B5_E89B)
        #expect(StableHash.hash("bourse-0") == 0x78AF_378B_BE3A_D65D)
        #expect(StableHash.hash("symbol/BTC-USD") == 0xC0C8_BDFA_AFA9_E97C)
        #expect(StableHash.hash("accounts/0417") == 0xAABF_ACC5_3484_AF9E)
        let weight = StableHash.weight(shard: StableHash.hash("symbol/BTC-USD"), member: StableHash.hash("bourse-0"))
        #expect(weight == 0xA65D_9B89_C9E0_36BB)
    }

    @Test func knownRendezvousOwners() {
        let members = ["bourse-0", "bourse-1", "bourse-2"]
        let expected = [
            "symbol/BTC-USD": "bourse-1", "symbol/ETH-USD": "bourse-0", "accounts/0000": "bourse-2",
            "accounts/0417": "bourse-1", "accounts/1023": "bourse-0",
        ]
        let assignment = ShardAssignment.rendezvous(members: members, shards: expected.keys)
        for (shard, owner) in expected {
            #expect(assignment.owner(of: shard) == owner)
            #expect(ShardAssignment.rendezvousOwner(of: shard, among: members.reversed()) == owner)
        }
    }
}
