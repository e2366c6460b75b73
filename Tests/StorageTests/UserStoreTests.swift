import Storage
import Testing
import Trading

/// Users and refresh tokens, run against both stores.
@Suite struct UserStoreTests {
    @Test(arguments: StoreKind.allCases)
    func usersAreCreatedFoundAndUnique(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let alice = try await store.createUser(
                username: "alice", passwordHash: "$2b$12$hash", role: "user", nowMillis: 1_700_000_000_000)
            #expect(alice.id == 1)
            #expect(alice.username == "alice" && alice.role == "user" && alice.createdAtMillis == 1_700_000_000_000)
            #expect(try await store.user(named: "alice") == alice)
            #expect(try await store.user(id: alice.id) == alice)
            #expect(try await store.user(named: "bob") == nil)
            #expect(try await store.user(id: 99) == nil)
            #expect(try await store.user(id: UserID.max) == nil)

            do {
                _ = try await store.createUser(username: "alice", passwordHash: "x", role: "admin", nowMillis: 1)
                Issue.record("a taken username was accepted")
            } catch let error as BourseError {
                #expect(error == BourseError(.conflict, "username is taken"))
            }
            // Case-sensitive: "Alice" is another user.
            let upper = try await store.createUser(username: "Alice", passwordHash: "y", role: "admin", nowMillis: 2)
            #expect(upper.id > alice.id)
            #expect(try await store.user(named: "alice")?.role == "user")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func racingRegistrationsOfOneNameHaveOneWinner(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<10 {
                    group.addTask {
                        do {
                            _ = try await store.createUser(
                                username: "bob", passwordHash: "h\(attempt)", role: "user", nowMillis: 0)
                            return true
                        } catch let error as BourseError where error.code == .conflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func refreshTokensWorkOnceExpireAndRevoke(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let user = try await store.createUser(username: "carol", passwordHash: "h", role: "user", nowMillis: 0)
            try await store.storeRefreshToken(hash: "t1", userID: user.id, expiresAtMillis: 10_000)

            // Two rotations race: exactly one gets the user, and only its new token works next.
            async let first = store.rotateRefreshToken(
                hash: "t1", newHash: "t1a", newExpiresAtMillis: 20_000, nowMillis: 5_000)
            async let second = store.rotateRefreshToken(
                hash: "t1", newHash: "t1b", newExpiresAtMillis: 20_000, nowMillis: 5_000)
            let results = try await [first, second]
            #expect(results.compactMap { $0 } == [user.id])
            #expect(
                try await store.rotateRefreshToken(hash: "t1", newHash: "x", newExpiresAtMillis: 1, nowMillis: 0) == nil
            )
            let winner = results[0] == nil ? "t1b" : "t1a"
            // The new token carries the new expiry: still good at 15,000, past the old token's 10,000.
            #expect(
                try await store.rotateRefreshToken(
                    hash: winner, newHash: "t1c", newExpiresAtMillis: 30_000, nowMillis: 15_000) == user.id)

            // Expired: refused (and gone).
            try await store.storeRefreshToken(hash: "t2", userID: user.id, expiresAtMillis: 10_000)
            #expect(
                try await store.rotateRefreshToken(
                    hash: "t2", newHash: "t2a", newExpiresAtMillis: 20_000, nowMillis: 10_000) == nil)
            #expect(
                try await store.rotateRefreshToken(hash: "t2", newHash: "t2b", newExpiresAtMillis: 20_000, nowMillis: 0)
                    == nil)
            #expect(
                try await store.rotateRefreshToken(
                    hash: "t2a", newHash: "t2c", newExpiresAtMillis: 20_000, nowMillis: 0) == nil)

            // Revoked: every token of the user is gone, others' stay.
            let dave = try await store.createUser(username: "dave", passwordHash: "h", role: "user", nowMillis: 0)
            try await store.storeRefreshToken(hash: "t3", userID: user.id, expiresAtMillis: 10_000)
            try await store.storeRefreshToken(hash: "t4", userID: user.id, expiresAtMillis: 10_000)
            try await store.storeRefreshToken(hash: "t5", userID: dave.id, expiresAtMillis: 10_000)
            try await store.revokeRefreshTokens(userID: user.id)
            #expect(
                try await store.rotateRefreshToken(hash: "t3", newHash: "y", newExpiresAtMillis: 1, nowMillis: 0) == nil
            )
            #expect(
                try await store.rotateRefreshToken(hash: "t4", newHash: "y", newExpiresAtMillis: 1, nowMillis: 0) == nil
            )
            #expect(
                try await store.rotateRefreshToken(hash: "t5", newHash: "t5a", newExpiresAtMillis: 1, nowMillis: 0)
                    == dave.id)
        }
    }

    /// A logout racing a refresh: whichever runs first, no token the refresh hands out works after the logout
    /// has answered (a rotation that deleted the old row and inserted a new one let the new one survive).
    @Test(arguments: StoreKind.allCases)
    func aLogoutRacingARefreshLeavesNoTokenBehind(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let user = try await store.createUser(username: "erin", passwordHash: "h", role: "user", nowMillis: 0)
            var rotatedFirst = 0
            for round in 0..<40 {
                try await store.storeRefreshToken(hash: "old\(round)", userID: user.id, expiresAtMillis: 10_000)
                async let rotated = store.rotateRefreshToken(
                    hash: "old\(round)", newHash: "new\(round)", newExpiresAtMillis: 10_000, nowMillis: 0)
                async let revoked: Void = store.revokeRefreshTokens(userID: user.id)
                if try await rotated != nil { rotatedFirst += 1 }
                try await revoked
                for hash in ["old\(round)", "new\(round)"] {
                    #expect(
                        try await store.rotateRefreshToken(
                            hash: hash, newHash: "after\(round)", newExpiresAtMillis: 10_000, nowMillis: 0) == nil,
                        "round \(round): \(hash) still works after the logout")
                }
            }
            // Both orders happen; the check above holds for each.
            print("\(kind): the rotation won \(rotatedFirst) of 40 races")
        }
    }
}
