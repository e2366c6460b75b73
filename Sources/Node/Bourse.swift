import ArgumentParser

@main
struct Bourse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bourse",
        abstract: "A trading cluster: paper trading and algorithmic trading on identical nodes.",
        version: "0.1.0",
        subcommands: [Start.self]
    )
}

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a node (not implemented yet).")

    func run() async throws {
        throw ValidationError("bourse start is not implemented yet: the single-node issue builds it")
    }
}
