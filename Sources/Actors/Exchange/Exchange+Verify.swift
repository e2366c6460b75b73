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
    /// Users whose balances are compared with the read models, over the whole node.
    static let readModelSample = 256
    /// How long one pass waits, in all, for read models that are behind their shard's journal.
    static let readModelPatience: Duration = .milliseconds(500)

    public func verify() async -> InvariantReport {
        var (outcomes, scope) = await verificationPass()
        var attempt = 1
        while attempt < Exchange.verifyAttempts, outcomes.contains(where: { $0.findings.count > 0 }) {
            try? await Task.sleep(for: .milliseconds(40 * attempt))
            let (later, laterScope) = await verificationPass()
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

    /// `bourse_verify_runs{outcome="clean"|"violations"}`: verify runs on this node, by result (the alert
    /// BourseVerifyFailed fires on any with violations).
    static let verifyClean = Counter(label: "bourse_verify_runs", dimensions: [("outcome", "clean")])
    static let verifyFailed = Counter(label: "bourse_verify_runs", dimensions: [("outcome", "violations")])
    /// `bourse_verify_violations`: the violations the last verify run on this node reported (0 when clean).
    static let verifyViolations = Gauge(label: "bourse_verify_violations")

    /// One pass over every shard: the outcome of every check, in report order.
    func verificationPass() async -> ([InvariantChecker.Outcome], (markets: Int, accountShards: Int, users: Int)) {
        let (accountAudits, symbolAudits) = await audits()
        let checker = InvariantChecker(accounts: accountAudits, symbols: symbolAudits)
        let outcomes = checker.checks() + [await readModelCheck(accountAudits)]
        return (
            outcomes,
            (symbolAudits.count, accountAudits.count, accountAudits.reduce(0) { $0 + $1.users })
        )
    }

    /// `verify`'s checks of memory over exchanges that each serve part of the shards (in one process): each
    /// audits its own shards, one checker sees them all. Returns the names of the failed checks, and how many
    /// account shards and books were audited (every shard once when together they serve all of them).
    static func failedChecks(across exchanges: [Exchange]) async -> (
        failed: [String], accountShards: Int, symbols: Int
    ) {
        var accountAudits: [AccountShardAudit] = []
        var symbolAudits: [SymbolAudit] = []
        for exchange in exchanges {
            let (shards, books) = await exchange.audits()
            accountAudits += shards
            symbolAudits += books
        }
        let failed = InvariantChecker(accounts: accountAudits, symbols: symbolAudits).checks()
            .filter { $0.findings.count > 0 }.map(\.name)
        return (failed.map { "\($0)" }, accountAudits.count, symbolAudits.count)
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
