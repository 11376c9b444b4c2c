import ArgumentParser
import Foundation
import TokenJarAdmin

/// `tokenjar sessions …`: the admin listener's sessions API from a shell.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "Count, find, show and revoke sessions of a running gateway, through its admin listener.",
        discussion: """
            Talks to the admin listener (admin.listen) of a running gateway. The admin token is \
            read from TOKENJAR_ADMIN_TOKEN. Answers are printed as JSON on standard output; an \
            error answer goes to standard error and the command exits 1.
            """,
        subcommands: [Count.self, Find.self, Show.self, Revoke.self]
    )

    struct Connection: ParsableArguments {
        @Option(name: .customLong("admin"), help: ArgumentHelp(
            "Base URL of the admin listener.", valueName: "URL"))
        var admin = "http://127.0.0.1:9090"

        func client() -> AdminClient {
            AdminClient(baseURL: admin, token: ProcessInfo.processInfo.environment["TOKENJAR_ADMIN_TOKEN"])
        }
    }

    struct Count: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts of sessions, logged-in sessions and cookies.")
        @OptionGroup var connection: Connection

        func run() async throws { try SessionsCommand.print(try await connection.client().counts()) }
    }

    struct Find: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sessions by token-hash prefix or by openid.")
        @OptionGroup var connection: Connection
        @Option(help: ArgumentHelp("Token-hash prefix, at least 6 hex digits (the access log's session field).", valueName: "HEX"))
        var prefix: String?
        @Option(help: "WeChat openid the sessions are logged in as.")
        var openid: String?
        @Option(help: "Most sessions listed (the API caps it at 1000).")
        var limit: Int?

        func validate() throws {
            guard (prefix == nil) != (openid == nil) else { throw ValidationError("give exactly one of --prefix and --openid") }
        }

        func run() async throws {
            let client = connection.client()
            if let prefix {
                try SessionsCommand.print(try await client.find(prefix: prefix, limit: limit))
            } else if let openid {
                try SessionsCommand.print(try await client.find(openID: openid, limit: limit))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one session and its jar; cookie values stay redacted unless --reveal.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Token-hash prefix matching exactly one session.", valueName: "HEX"))
        var prefix: String
        @Flag(help: "Show the cookie values (they are credentials to the backend).")
        var reveal = false

        func run() async throws { try SessionsCommand.print(try await connection.client().show(prefix: prefix, reveal: reveal)) }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke one session (by token-hash prefix) or every session of an openid.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Token-hash prefix matching exactly one session.", valueName: "HEX"))
        var prefix: String?
        @Option(help: "Revoke every session logged in as this openid instead.")
        var openid: String?

        func validate() throws {
            guard (prefix == nil) != (openid == nil) else { throw ValidationError("give a hash prefix or --openid, not both") }
        }

        func run() async throws {
            let client = connection.client()
            if let openid {
                try SessionsCommand.print(try await client.revoke(openID: openid))
            } else if let prefix {
                try SessionsCommand.print(try await client.revoke(prefix: prefix))
            }
        }
    }

    /// Prints a success to standard output; an error answer to standard error, then exits 1.
    static func print(_ answer: AdminClient.Answer) throws {
        let text = answer.body.hasSuffix("\n") ? answer.body : answer.body + "\n"
        if answer.isSuccess {
            FileHandle.standardOutput.write(Data(text.utf8))
        } else {
            FileHandle.standardError.write(Data("HTTP \(answer.status): \(text)".utf8))
            throw ExitCode(1)
        }
    }
}
