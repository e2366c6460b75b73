import Trading

/// What `verify` needs of one account shard, captured on its actor in one go (`AccountShardState.audit`):
/// money totals per currency, the per-user findings that need no other shard, and what must be matched
/// against the books and the other shards (open reservations, settled fills).
struct AccountShardAudit: Sendable {
    /// Sums over the shard's users of one currency, wide enough never to overflow.
    struct CurrencyTotals: Sendable, Hashable {
        var available: Int128 = 0
        var locked: Int128 = 0
        var fees: Int128 = 0
        /// Deposits minus withdrawals: what entered the exchange.
        var netDeposits: Int128 = 0

        mutating func add(_ other: CurrencyTotals) {
            available += other.available
            locked += other.locked
            fees += other.fees
            netDeposits += other.netDeposits
        }
    }

    /// An open order's reservation, to be found in its book.
    struct OpenReservation: Sendable, Hashable {
        var symbol: String
        var orderID: OrderID
        var owner: UserID
        var remaining: Quantity
        /// Its place has not been answered by its book yet (sent, or to be sent again): it may not be there yet.
        var inFlight = false
    }

    /// How many of one trade's fill records (`UserTrade`) say maker and how many say taker.
    struct RoleCount: Sendable, Hashable {
        var maker: Int = 0
        var taker: Int = 0
    }

    var progress: ShardProgress
    var anomalies: Int
    var users = 0
    var totals: [String: CurrencyTotals] = [:]
    /// (user, currency) balances looked at.
    var balancesChecked = 0
    var negativeBalances = Findings()
    var reservationsChecked = 0
    var reservationProblems = Findings()
    var reservations: [OpenReservation] = []
    /// Per symbol, the trade ids settled by each ledger of the shard (a trade settled by two of its users
    /// appears twice), as far as the ledgers still hold them one by one.
    var settledFills: [String: [UInt64]] = [:]
    /// Per symbol, the highest watermark of the shard's ledgers (`SettledTrades.settledThrough`): a trade at
    /// or below it may be settled by a ledger that no longer lists it.
    var settledThrough: [String: UInt64] = [:]
    /// Per symbol and trade id, the roles of the fill records kept in the users' histories.
    var fillRecords: [String: [UInt64: RoleCount]] = [:]
    var fillProblems = Findings()
    /// Balances of a few users, to compare with the read models.
    var sampledBalances: [UserID: [String: Balance]] = [:]

    init(progress: ShardProgress, anomalies: Int) {
        self.progress = progress
        self.anomalies = anomalies
    }
}
