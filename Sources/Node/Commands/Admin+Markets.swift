import API
import ArgumentParser

/// `bourse admin markets list|add|halt|resume`.
extension Admin {
    struct Markets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, add, halt or resume markets.", subcommands: [List.self, Add.self, Halt.self, Resume.self])
        @OptionGroup var options: AdminOptions
    }
}

extension Admin.Markets {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every market and whether it trades.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await options.run {
                let session = AdminSession.anonymous(try AdminEndpoint(parsing: options.node))
                let markets = try await session.request(.GET, "/v1/markets")
                guard !options.json else { return options.printJSON(markets) }
                print(Self.table(markets.arrayValue ?? []))
            }
        }

        static func table(_ markets: [JSONValue]) -> String {
            var table = TextTable(["SYMBOL", "BASE", "QUOTE", "TICK", "LOT", "MIN QTY", "MAKER", "TAKER", "STATUS"])
            for market in markets {
                table.append(
                    [
                        "symbol", "base", "quote", "tick_size", "lot_size", "min_quantity", "maker_fee_bps",
                        "taker_fee_bps", "status",
                    ].map { text(market[$0]) })
            }
            return table.rendered
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a market, durably (validated like cluster.yaml markets).",
            discussion: "Base and quote default to the two halves of a symbol such as ADA-USD.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "The symbol, e.g. ADA-USD.") var symbol: String
        @Option(help: "Base currency (default: before the '-').") var base: String?
        @Option(help: "Quote currency (default: after the '-').") var quote: String?
        @Option(name: .customLong("tick-size"), help: "Price step, e.g. 0.0001.") var tickSize: String
        @Option(name: .customLong("lot-size"), help: "Quantity step, e.g. 1.") var lotSize: String
        @Option(name: .customLong("min-quantity"), help: "Smallest order (default: the lot size).")
        var minQuantity: String?
        @Option(name: .customLong("maker-fee-bps"), help: "Maker fee in basis points.") var makerFeeBps: Int = 10
        @Option(name: .customLong("taker-fee-bps"), help: "Taker fee in basis points.") var takerFeeBps: Int = 20

        func run() async throws {
            try await options.run {
                let halves = symbol.split(separator: "-", maxSplits: 1).map(String.init)
                guard let base = base ?? (halves.count == 2 ? halves[0] : nil),
                    let quote = quote ?? (halves.count == 2 ? halves[1] : nil)
                else { throw AdminFailure.usage("give --base and --quote for a symbol without a '-'") }
                let body: JSONValue = [
                    "symbol": .string(symbol), "base": .string(base), "quote": .string(quote),
                    "tick_size": .string(tickSize), "lot_size": .string(lotSize),
                    "min_quantity": .string(minQuantity ?? lotSize), "maker_fee_bps": .int(makerFeeBps),
                    "taker_fee_bps": .int(takerFeeBps),
                ]
                let market = try await options.session().request(.POST, "/admin/v1/markets", json: body)
                guard !options.json else { return options.printJSON(market) }
                print("added market \(symbol)")
                print(List.table([market]))
            }
        }
    }

    struct Halt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Halt a market: new orders are rejected.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "The symbol.") var symbol: String

        func run() async throws { try await Admin.Markets.setStatus(options, symbol, "halt") }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a halted market.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "The symbol.") var symbol: String

        func run() async throws { try await Admin.Markets.setStatus(options, symbol, "resume") }
    }

    fileprivate static func setStatus(_ options: AdminOptions, _ symbol: String, _ action: String) async throws {
        try await options.run {
            let market = try await options.session().request(
                .POST, "/admin/v1/markets/\(AdminSession.pathSegment(symbol))/\(action)")
            guard !options.json else { return options.printJSON(market) }
            print("\(symbol): \(text(market["status"]))")
        }
    }
}
