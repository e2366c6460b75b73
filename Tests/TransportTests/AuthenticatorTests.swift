import Testing

@testable import Transport

@Suite("Stream authentication")
struct AuthenticatorTests {
    let authenticator = PeerAuthenticator(secret: Fixtures.secret)
    let now: Int64 = 1_760_000_000_000

    @Test("credentials signed with the cluster secret are accepted")
    func accepts() {
        let credentials = authenticator.credentials(nodeID: "bourse-2", timestamp: now)
        #expect(credentials.nonce.utf8.count == 32)
        #expect(credentials.signature.utf8.count == 64)
        #expect(authenticator.verify(credentials, now: now + 59_000) == .success("bourse-2"))
        #expect(authenticator.verify(credentials, now: now - 59_000) == .success("bourse-2"))
    }

    @Test("a missing, wrong or tampered signature is refused")
    func refusesBadSignatures() {
        let good = authenticator.credentials(nodeID: "bourse-2", timestamp: now)
        let otherSecret = PeerAuthenticator(secret: PeerSecret("another-secret")).sign(
            nodeID: good.nodeID, timestamp: good.timestamp, nonce: good.nonce)
        #expect(authenticator.verify(nil, now: now) == .failure(.missingCredentials))
        #expect(authenticator.verify(otherSecret, now: now) == .failure(.invalidSignature))

        var renamed = good
        renamed.nodeID = "bourse-3"
        var shifted = good
        shifted.timestamp += 1
        var renonced = good
        renonced.nonce = String(good.nonce.reversed())
        var truncated = good
        truncated.signature.removeLast(2)
        var notHex = good
        notHex.signature = String(repeating: "z", count: 64)
        var flipped = good
        flipped.signature = String(good.signature.dropLast()) + (good.signature.last == "0" ? "1" : "0")
        for tampered in [renamed, shifted, renonced, truncated, notHex, flipped] {
            #expect(authenticator.verify(tampered, now: now) == .failure(.invalidSignature))
        }
    }

    @Test("a timestamp more than 60 s away is refused even with a valid signature")
    func refusesStaleTimestamps() {
        let old = authenticator.credentials(nodeID: "bourse-2", timestamp: now - 60_001)
        let future = authenticator.credentials(nodeID: "bourse-2", timestamp: now + 60_001)
        let absurd = authenticator.credentials(nodeID: "bourse-2", timestamp: .min)
        #expect(authenticator.verify(old, now: now) == .failure(.staleTimestamp))
        #expect(authenticator.verify(future, now: now) == .failure(.staleTimestamp))
        #expect(authenticator.verify(absurd, now: now) == .failure(.staleTimestamp))
    }

    @Test("node ids that could make the signed text ambiguous are refused")
    func refusesAmbiguousNodeIDs() {
        let piped = authenticator.credentials(nodeID: "bourse|2", timestamp: now)
        #expect(authenticator.verify(piped, now: now) == .failure(.invalidNodeID))
    }

    @Test("a nonce is accepted once within the retention window")
    func nonceReplay() {
        var nonces = NonceCache(capacity: 3, retentionMilliseconds: 1_000)
        var accepted: [Bool] = []
        accepted.append(nonces.insert("a", now: 0))
        accepted.append(nonces.insert("a", now: 10))
        accepted.append(nonces.insert("b", now: 20))
        accepted.append(nonces.insert("a", now: 2_000))
        #expect(accepted == [true, false, true, true], "a repeat is refused until the retention has passed")
        for index in 0..<10 { _ = nonces.insert("n\(index)", now: 2_000) }
        let oldestAgain = nonces.insert("n0", now: 2_000)
        #expect(oldestAgain, "the oldest go first beyond the capacity")
    }

    @Test("the secret never shows in descriptions")
    func redactedSecret() {
        #expect(!"\(Fixtures.secret)".contains("test-cluster-secret"))
        #expect(!String(reflecting: Fixtures.secret).contains("test-cluster-secret"))
    }
}
