import Logging
import TokenJarPostgres
import TokenJarStore
import TokenJarTestSupport

/// One PostgreSQL server for the store tests running at a time: the first test that needs it
/// starts it, the last one to finish stops it (so none outlives the test run), and each test
/// works in a database of its own.
actor SharedPostgres {
    static let shared = SharedPostgres()

    private var starting: Task<PostgresServer, any Error>?
    private var users = 0

    func acquire() async throws -> PostgresServer {
        users += 1
        if starting == nil { starting = Task { try await PostgresServer.start() } }
        do {
            return try await starting!.value
        } catch {
            await release()
            throw error
        }
    }

    func release() async {
        users -= 1
        guard users == 0, let task = starting else { return }
        starting = nil
        if let server = try? await task.value { await server.stop() }
    }
}

/// Runs `body` with a server of its own (for tests that stop and start it).
func withOwnPostgres<T>(_ body: (PostgresServer) async throws -> T) async throws -> T {
    try await withPostgresServer(body)
}

/// Store options for a database on a test server: plain TCP on loopback, trust authentication.
/// The wait for a connection is patient by default (tests run beside many others on few cores);
/// the fail-fast test sets the production default.
func postgresOptions(_ server: PostgresServer, _ database: String, acquireTimeout: Duration = .seconds(5))
    -> PostgresStoreOptions
{
    var options = PostgresStoreOptions(port: server.port, user: PostgresServer.user, database: database, tls: .disable)
    options.startupTimeout = .seconds(20)
    options.acquireTimeout = acquireTimeout
    return options
}

/// Stores log through this: only warnings and worse, to keep test output short.
let quietLogger: Logger = {
    var logger = Logger(label: "tokenjar.test")
    logger.logLevel = .warning
    return logger
}()
