import Foundation
import Testing

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
