import Metrics
import Storage
import Trading

/// `verify`: the invariants of design.md, checked over every book and account shard in memory and, where
/// the node keeps read models, against the database.
///
/// Each shard is audited on its actor (a consistent view of that shard), shard after shard, so commands in
/// flight between shards — a trade matched but not yet settled, a reservation whose order has not reached
/// its book — look like violations for a moment. So a pass that finds violations is followed by more, a
/// few tens of milliseconds apart, and only the violations found by every pass are reported: a command in
/// flight lands in between and drops out, corrupt state stays. At quiescence the first pass is exact.
extension Exchange {
    /// Passes made at most.
    static let verifyAttempts = 5
    /// How long `verify` waits for every shard to be audited once (routing by shard, a move or a failover).
    public static let coveragePatience: Duration = .seconds(10)
    /// Users whose balances are compared with the read models, over the whole node.
    static let readModelSample = 256
    /// How long one pass waits, in all, for read models that are behind their shard's journal.
    static let readModelPatience: Duration = .milliseconds(500)

    public func verify() async -> InvariantReport {
        await verify(gathering: { ([await self.audit()], []) })
    }

    /// `verify` over audits gathered from several nodes (routing by shard: each serves part of the shards).
    /// `gather` returns, for one pass, the audit of every node that answered (this one's included) and the
    /// nodes that did not. Every shard must be audited exactly once (`shards_audited`): a shard moving between
    /// nodes is audited by none for a moment, so, like a command in flight, it only counts if every pass finds it.
    public func verify(
        gathering gather: @Sendable () async -> (audits: [ExchangeAudit], unreachable: [String]),
        coveragePatience: Duration = Exchange.coveragePatience
    ) async -> InvariantReport {
        var (outcomes, scope) = await verificationPass(gather)
        // A shard that no node (or two) audited is moving, or its node failed and the others have not taken it
        // yet (seconds): the other checks are meaningless without it, so passes are repeated until every shard
        // is audited once, for up to `coveragePatience`; then the report says what is still missing.
        let coverageDeadline = ContinuousClock.now + coveragePatience
        while outcomes.last?.name == InvariantReport.Name.shardsAudited, outcomes.last?.findings.count ?? 0 > 0,
            ContinuousClock.now < coverageDeadline
        {
            try? await Task.sleep(for: .milliseconds(250))
            (outcomes, scope) = await verificationPass(gather)
        }
        var attempt = 1
        while attempt < Exchange.verifyAttempts, outcomes.contains(where: { $0.findings.count > 0 }) {
            try? await Task.sleep(for: .milliseconds(40 * attempt))
            let (later, laterScope) = await verificationPass(gather)
            outcomes = zip(outcomes, later).map { $0.persisting(in: $1) }
            scope = laterScope
            attempt += 1
        }
        let report = InvariantReport(
            checks: outcomes.map(\.check), attempts: attempt, checkedAtMillis: clock(), markets: scope.markets,
            accountShards: scope.accountShards, users: scope.users)
        let violations = report.checks.reduce(0) { $0 + $1.violations }
        (report.ok ? Exchange.verifyClean : Exchange.verifyFailed).increment()
        Exchange.verifyViolations.record(violations)
        if !report.ok {
            logger.error(
                "verify found violations",
                metadata: [
                    "violations": "\(violations)",
                    "checks": "\(report.checks.filter { !$0.passed }.map(\.name).joined(separator: ","))",
                ])
        }
        return report
    }

    /// The audits of every shard this exchange serves: its part of a `verify`.
    public func audit() async -> ExchangeAudit {
        let (accounts, symbols) = await audits()
        return ExchangeAudit(accounts: accounts, symbols: symbols)
    }

    /// `bourse_verify_runs{outcome="clean"|"violations"}`: verify runs on this node, by result (the alert
    /// BourseVerifyFailed fires on any with violations).
    static let verifyClean = Counter(label: "bourse_verify_runs", dimensions: [("outcome", "clean")])
    static let verifyFailed = Counter(label: "bourse_verify_runs", dimensions: [("outcome", "violations")])
    /// `bourse_verify_violations`: the violations the last verify run on this node reported (0 when clean).
    static let verifyViolations = Gauge(label: "bourse_verify_violations")

    /// One pass over every shard: the outcome of every check, in report order.
    func verificationPass(
        _ gather: @Sendable () async -> (audits: [ExchangeAudit], unreachable: [String])
    ) async -> ([InvariantChecker.Outcome], (markets: Int, accountShards: Int, users: Int)) {
        let (audits, unreachable) = await gather()
        let accountAudits = audits.flatMap(\.accounts)
        let symbolAudits = audits.flatMap(\.symbols)
        let checker = InvariantChecker(accounts: accountAudits, symbols: symbolAudits)
        let outcomes =
            checker.checks() + [await readModelCheck(accountAudits), coverageCheck(audits, unreachable: unreachable)]
        return (
            outcomes,
            (symbolAudits.count, accountAudits.count, accountAudits.reduce(0) { $0 + $1.users })
        )
    }

    /// Every market's book and every account shard audited exactly once, over all the audits of a pass.
    func coverageCheck(_ audits: [ExchangeAudit], unreachable: [String]) -> InvariantChecker.Outcome {
        var seen: [String: Int] = [:]
        for audit in audits {
            for shard in audit.accounts.map(\.progress.shard) + audit.symbols.map(\.progress.shard) {
                seen[shard, default: 0] += 1
            }
        }
        let expected =
            symbolDirectory.specs.map { ShardKey.symbol($0.symbol) }
            + (0..<accounts.shardCount).map { ShardKey.account(index: $0) }
        var findings = Findings()
        for shard in expected where seen[shard] != 1 {
            let count = seen[shard] ?? 0
            findings.add(
                "shard/\(shard)",
                count == 0 ? "\(shard): no node served it" : "\(shard): served by \(count) nodes at once")
        }
        for shard in Set(seen.keys).subtracting(expected).sorted() {
            findings.add("shard/\(shard)", "\(shard): audited, but this node does not know it")
        }
        return InvariantChecker.Outcome(
            name: InvariantReport.Name.shardsAudited, summary: "every book and account shard is served by one node",
            checked: expected.count, findings: findings,
            note: unreachable.isEmpty ? nil : "no answer from \(unreachable.sorted().joined(separator: ", "))")
    }

    /// `verify` over exchanges that each serve part of the shards (in one process), as across nodes: each
    /// audits its own shards, and the audits go through their wire encoding to the first one, which checks them
    /// all. Returns the names of the failed checks, and how many account shards and books were audited (every
    /// shard once when together they serve all of them).
    static func failedChecks(across exchanges: [Exchange]) async -> (
        failed: [String], accountShards: Int, symbols: Int
    ) {
        guard let first = exchanges.first else { return ([], 0, 0) }
        // No waiting for coverage: the tests check what these exchanges serve now.
        let report = await first.verify(
            gathering: {
                var audits: [ExchangeAudit] = []
                var unreadable: [String] = []
                for exchange in exchanges {
                    do {
                        audits.append(try ExchangeAudit(decoding: await exchange.audit().encoded()))
                    } catch {
                        unreadable.append("\(exchange.configuration.nodeID): \(error)")
                    }
                }
                return (audits, unreadable)
            }, coveragePatience: .zero)
        return (report.checks.filter { !$0.passed }.map(\.name), report.accountShards, report.markets)
    }

    /// What `verify` checks of every shard this exchange serves, accounts first, then books (in market order):
    /// every fill an account settled was made by its book already.
    func audits() async -> (accounts: [AccountShardAudit], symbols: [SymbolAudit]) {
        let served = accounts.served
        let perShard = max(1, Exchange.readModelSample / max(1, served.count))
        var accountAudits: [AccountShardAudit] = []
        for shard in served { accountAudits.append(await shard.audit(sampleUsers: perShard)) }
        var symbolAudits: [SymbolAudit] = []
        for spec in symbolDirectory.specs where serves(ShardKey.symbol(spec.symbol)) {
            guard let actor = symbolDirectory.actor(spec.symbol) else { continue }
            symbolAudits.append(await actor.audit())
        }
        return (accountAudits, symbolAudits)
    }

    /// A sample of users' balances against the `wallets` read model, in shards whose read models have caught
    /// up with the journal as audited (others are counted in the note). Skipped when the node keeps no read
    /// models or the database cannot be reached.
    func readModelCheck(_ audits: [AccountShardAudit]) async -> InvariantChecker.Outcome {
        let name = InvariantReport.Name.readModels
        let summary = "the wallets read model shows the balances held in memory"
        guard let store = projections?.store else {
            return .init(
                name: name, summary: summary, checked: 0, findings: Findings(), note: "this node keeps no read models")
        }
        var findings = Findings()
        var checked = 0
        var lagging = 0
        // The read models trail the journal by a few milliseconds: wait for them, but not for long.
        let deadline = ContinuousClock.now + Exchange.readModelPatience
        do {
            for audit in audits where !audit.sampledBalances.isEmpty {
                let progress = audit.progress
                var offset = try await store.projectionOffset(shard: progress.shard)
                while offset < progress.journalSequence, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                    offset = try await store.projectionOffset(shard: progress.shard)
                }
                guard offset >= progress.journalSequence else {
                    lagging += 1
                    continue
                }
                for (user, balances) in audit.sampledBalances.sorted(by: { $0.key < $1.key }) {
                    checked += 1
                    let rows = try await store.wallets(user: user)
                    Self.compare(user: user, memory: balances, rows: rows, into: &findings)
                }
            }
        } catch {
            return .init(
                name: name, summary: summary, checked: checked, findings: findings,
                note: "read models unreachable: \(Self.safeDescription(error))")
        }
        return .init(
            name: name, summary: summary, checked: checked, findings: findings,
            note: lagging > 0 ? "\(lagging) shards skipped: their read models are behind the journal" : nil)
    }

    /// Store and Bourse errors are safe to show; anything else (a driver's error) is only named.
    private static func safeDescription(_ error: any Error) -> String {
        switch error {
        case let error as StorageError: error.description
        case let error as BourseError: error.description
        default: "\(type(of: error))"
        }
    }

    private static func compare(
        user: UserID, memory: [String: Balance], rows: [WalletRow], into findings: inout Findings
    ) {
        var stored: [String: Balance] = [:]
        for row in rows { stored[row.currency] = Balance(available: row.available, locked: row.locked) }
        for currency in Set(memory.keys).union(stored.keys).sorted() {
            let held = memory[currency] ?? .zero
            let shown = stored[currency] ?? .zero
            guard held != shown else { continue }
            findings.add(
                "wallet/\(user)/\(currency)",
                "user \(user) \(currency): memory available \(held.available), locked \(held.locked); "
                    + "wallets available \(shown.available), locked \(shown.locked)")
        }
    }
}
