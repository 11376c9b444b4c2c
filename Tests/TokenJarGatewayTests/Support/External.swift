import Foundation
import Testing
import NIOCore
import NIOPosix

/// Real programs the tests start (PHP, PostgreSQL). Missing programs skip their tests, except
/// under the project's test script, which sets TOKENJAR_REQUIRE_EXTERNAL=1 and so turns such a
/// skip into a failure.
enum External {
    static var required: Bool { ProcessInfo.processInfo.environment["TOKENJAR_REQUIRE_EXTERNAL"] == "1" }

    /// The full path of a program on PATH (or in the usual Debian places).
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether tests needing `name` should run: it is installed, or it is required.
    static func enabled(_ name: String) -> Bool { find(name) != nil || required }

    /// A loopback port that was free a moment ago, for programs that cannot bind port 0
    /// themselves. It is drawn below the kernel's ephemeral range (32768 and up), so servers
    /// that other tests bind to port 0 meanwhile cannot take it.
    static func freePort() async throws -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20_000..<32_000)
            if let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: port).get() {
                try await channel.close()
                return port
            }
        }
        throw ExternalError("no free loopback port found")
    }

    /// Waits until something accepts connections on the port.
    static func waitForPort(_ port: Int, timeout: Duration = .seconds(10)) async throws {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get() {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ExternalError("nothing listens on 127.0.0.1:\(port)")
    }

    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenjar-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

struct ExternalError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `php -S` on a loopback port, serving a fixture app with file sessions in a temporary folder.
final class PHPServer: Sendable {
    let process: ChildProcess
    let port: Int
    let directory: URL

    static func start(script: String = "index.php") async throws -> PHPServer {
        let php = try #require(External.find("php"), "php-cli is not installed (scripts/test installs it)")
        let dir = try External.temporaryDirectory("php")
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/php")
        let sessions = dir.appendingPathComponent("sessions")
        try FileManager.default.createDirectory(at: sessions, withIntermediateDirectories: true)
        // A port can be taken between the check and php's bind; php then exits at once, and
        // another port is tried.
        for _ in 0..<5 {
            let port = try await External.freePort()
            let process = try ChildProcess(php, [
                "-d", "session.save_path=\(sessions.path)", "-d", "display_errors=stderr",
                "-S", "127.0.0.1:\(port)", "-t", fixtures.path, fixtures.appendingPathComponent(script).path,
            ], logFile: dir.appendingPathComponent("php.log").path)
            let server = PHPServer(process: process, port: port, directory: dir)
            try await Task.sleep(for: .milliseconds(50))
            if await process.wait(timeout: .zero) != nil { continue }
            do {
                try await External.waitForPort(port)
                if await process.wait(timeout: .zero) != nil { continue }
                return server
            } catch {
                await process.stop(SIGKILL)
            }
        }
        try? FileManager.default.removeItem(at: dir)
        throw ExternalError("php -S did not start on a loopback port")
    }

    private init(process: ChildProcess, port: Int, directory: URL) {
        self.process = process
        self.port = port
        self.directory = directory
    }

    func stop() async {
        await process.stop(SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Runs `body` with a PHP server, and stops the server afterwards, whatever happens.
func withPHPServer<T>(_ body: (PHPServer) async throws -> T) async throws -> T {
    let php = try await PHPServer.start()
    do {
        let result = try await body(php)
        await php.stop()
        return result
    } catch {
        await php.stop()
        throw error
    }
}
