#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A throwaway PostgreSQL server for tests: `initdb` in a temporary directory, `pg_ctl` on a
/// loopback port with its unix socket in that directory, trust authentication for the user
/// `tokenjar`. `stop()` stops it and removes the directory.
///
/// The server binaries come from Debian's `postgresql` package (`/usr/lib/postgresql/N/bin`), or
/// from the directory in `TOKENJAR_PG_BIN`. `initdb` refuses to run as root, so under root the
/// server programs run as the `postgres` system user (which the package creates) through
/// `runuser`, and the temporary directory is handed to that user.
public final class PostgresServer: Sendable {
    /// The database superuser the tests connect as.
    public static let user = "tokenjar"
    public static let skipMessage =
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package postgresql "
        + "(scripts/ensure-packages test does), or set TOKENJAR_PG_BIN"

    public let port: Int
    public let directory: URL
    private let bin: String
    private let runAs: String?

    private init(port: Int, directory: URL, bin: String, runAs: String?) {
        self.port = port
        self.directory = directory
        self.bin = bin
        self.runAs = runAs
    }

    /// The directory holding `initdb` and `pg_ctl`, or nil.
    public static var binDirectory: String? {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["TOKENJAR_PG_BIN"], !dir.isEmpty {
            return fm.isExecutableFile(atPath: dir + "/initdb") ? dir : nil
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where fm.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        return External.find("initdb").map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
    }

    /// Whether PostgreSQL tests should run: the binaries are there, or external programs are
    /// required (then a missing binary fails the test instead of skipping it).
    public static var enabled: Bool { binDirectory != nil || External.required }

    /// `postgres://tokenjar@127.0.0.1:PORT/DATABASE`
    public func url(database: String = "postgres") -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)"
    }

    /// Creates a cluster and starts it; throws (with the server's log) when it cannot.
    public static func start() async throws -> PostgresServer {
        guard let bin = binDirectory else { throw ExternalError(skipMessage) }
        let runAs = getuid() == 0 ? "postgres" : nil
        // The server user must reach the directory: under root, /tmp rather than a TMPDIR that
        // may sit in root's home.
        let directory: URL
        if runAs != nil {
            directory = URL(fileURLWithPath: "/tmp/tokenjar-pg-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } else {
            directory = try External.temporaryDirectory("pg")
        }
        do {
            if let runAs { try handOver(directory, to: runAs) }
            let data = directory.appendingPathComponent("data").path
            try await run(bin + "/initdb", [
                "-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
            ], runAs: runAs, log: directory.appendingPathComponent("initdb.log").path)
            // A port can be taken between the check and the server's bind; then another is tried.
            for _ in 0..<5 {
                let server = PostgresServer(
                    port: try await External.freePort(), directory: directory, bin: bin, runAs: runAs)
                if (try? await server.resume()) != nil { return server }
            }
            throw ExternalError("PostgreSQL did not start on a loopback port:\n\(logTail(directory))")
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Stops the server (fast shutdown: sessions are ended, nothing committed is lost) and keeps
    /// the data, so `resume()` can start it again on the same port.
    public func pause() async throws {
        try await Self.run(bin + "/pg_ctl", ["-D", dataPath, "-m", "fast", "-w", "-t", "30", "stop"],
                           runAs: runAs, log: logPath)
    }

    /// Starts the server (again) on its port.
    public func resume() async throws {
        try await Self.run(bin + "/pg_ctl", [
            "-D", dataPath, "-l", logPath, "-w", "-t", "30",
            "-o", "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c max_connections=200",
            "start",
        ], runAs: runAs, log: logPath)
    }

    /// Stops the server if it runs and removes its directory.
    public func stop() async {
        if FileManager.default.fileExists(atPath: dataPath + "/postmaster.pid") {
            do {
                try await Self.run(bin + "/pg_ctl", ["-D", dataPath, "-m", "immediate", "-w", "-t", "10", "stop"],
                                   runAs: runAs, log: logPath)
            } catch {
                // Last resort: the postmaster's pid is the first line of postmaster.pid.
                if let text = try? String(contentsOfFile: dataPath + "/postmaster.pid", encoding: .utf8),
                   let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) }) {
                    kill(pid, SIGKILL)
                }
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs SQL with psql as the superuser; returns the unaligned, tuples-only output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let out = directory.appendingPathComponent("psql-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        try await Self.run(bin + "/psql", [
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user,
            "-d", database, "-c", sql,
        ], runAs: nil, log: out, keepLog: true)
        return (try String(contentsOfFile: out, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new, empty database; returns its name.
    public func createDatabase() async throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await psql("CREATE DATABASE \(name)")
        return name
    }

    /// The last lines of the server's log, for failure messages.
    public var logTail: String { Self.logTail(directory) }

    private var dataPath: String { directory.appendingPathComponent("data").path }
    private var logPath: String { directory.appendingPathComponent("server.log").path }

    private static func logTail(_ directory: URL) -> String {
        let text = ["initdb.log", "server.log"].compactMap {
            try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    /// The server user must own the directory (and reach it: the temporary directory's parent is
    /// world-searchable).
    private static func handOver(_ directory: URL, to user: String) throws {
        guard let entry = getpwnam(user) else {
            throw ExternalError("running as root, and there is no '\(user)' user to run PostgreSQL as "
                + "(the Debian package postgresql creates it)")
        }
        guard chown(directory.path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw ExternalError("cannot hand \(directory.path) to \(user)")
        }
    }

    /// Runs a program to completion (within 60 s); throws with its output when it fails.
    private static func run(_ path: String, _ arguments: [String], runAs: String?, log: String,
                            keepLog: Bool = false) async throws {
        var program = path
        var args = arguments
        if let runAs {
            guard let runuser = ["/usr/sbin/runuser", "/sbin/runuser"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            }) else { throw ExternalError("runuser not found (util-linux)") }
            program = runuser
            args = ["-u", runAs, "--", path] + arguments
        }
        let scratch = keepLog ? log : log + ".cmd"
        let process = try ChildProcess(program, args, logFile: scratch)
        let status = await process.wait(timeout: .seconds(60))
        let output = (try? String(contentsOfFile: scratch, encoding: .utf8)) ?? ""
        if !keepLog { try? FileManager.default.removeItem(atPath: scratch) }
        if status == nil { await process.stop(SIGKILL) }
        guard status == 0 else {
            let name = URL(fileURLWithPath: path).lastPathComponent
            throw ExternalError("\(name) failed (\(status.map(String.init) ?? "timeout")): \(output.suffix(2_000))")
        }
    }
}

/// Runs `body` with a fresh PostgreSQL server and stops the server afterwards, whatever happens.
public func withPostgresServer<T>(_ body: (PostgresServer) async throws -> T) async throws -> T {
    let server = try await PostgresServer.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
