import ArgumentParser

@main
struct TokenJarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenjar",
        abstract: "TokenJar: a reverse-proxy gateway that keeps one cookie jar per client token.",
        subcommands: [ServeCommand.self, DemoCommand.self, CheckConfigCommand.self, CookiesCommand.self, SessionsCommand.self]
    )
}
