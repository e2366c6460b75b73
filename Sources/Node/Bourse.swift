import ArgumentParser

@main
struct Bourse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bourse",
        abstract: "A trading cluster: paper trading and algorithmic trading on identical nodes.",
        version: "0.1.0",
        subcommands: [Start.self, Admin.self]
    )
}
