#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1

/// The real `tokenjar serve` binary, as an operator runs it: configured by flags and
/// `TOKENJAR_*` variables only, on a loopback port, in a process of its own.
final class GatewayProcess: Sendable {
    let process: ChildProcess
    let port: Int
    let logFile: String

    /// `tokenjar`, built by `swift build` next to the test bundle (`.build/debug/`).
    static var binary: String? {
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = bundle.appendingPathComponent("tokenjar").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    /// Starts `tokenjar serve` in front of `upstream` (when given) on `store`; `environment` adds
    /// `TOKENJAR_*` settings and `arguments` more flags (`--config FILE`). None of the test run's
    /// own `TOKENJAR_*` variables reach it.
    static func start(
        store: String, upstream: Int?, environment: [String: String], arguments: [String] = [],
        logDirectory: URL, name: String
    ) async throws -> GatewayProcess {
        guard let binary else {
            throw ExternalError("the tokenjar binary is not next to the test bundle; run swift build first")
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TOKENJAR_") }
        env.merge(environment) { _, new in new }
        env["TOKENJAR_LOG_ACCESS_LOG"] = env["TOKENJAR_LOG_ACCESS_LOG"] ?? "false"
        let logFile = logDirectory.appendingPathComponent("\(name).log").path
        // A port can be taken between the check and the gateway's bind (the gateway then exits);
        // a connection to the port proves nothing, since it may be someone else's: the gateway's
        // own "listening" line does.
        for _ in 0..<5 {
            try? FileManager.default.removeItem(atPath: logFile)
            let port = try await External.freePort()
            let upstreamFlags = upstream.map { ["--upstream", "http://127.0.0.1:\($0)"] } ?? []
            let process = try ChildProcess(
                binary, ["serve", "--listen", "127.0.0.1:\(port)", "--store", store] + upstreamFlags + arguments,
                environment: env, logFile: logFile)
            let gateway = GatewayProcess(process: process, port: port, logFile: logFile)
            let end = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < end {
                let log = gateway.log
                if log.contains("listening"), log.contains(":\(port)") { return gateway }
                if await process.wait(timeout: .zero) != nil { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            if await process.wait(timeout: .zero) == nil {
                await process.stop(SIGKILL)
                throw ExternalError("\(name) did not listen within 30 s:\n\(gateway.logTail)")
            }
            guard gateway.log.contains("in use") else {
                throw ExternalError("\(name) exited at start:\n\(gateway.logTail)")
            }
        }
        throw ExternalError("\(name) found no free loopback port")
    }

    private init(process: ChildProcess, port: Int, logFile: String) {
        self.process = process
        self.port = port
        self.logFile = logFile
    }

    /// Whether the process is still running.
    var isRunning: Bool {
        get async { await process.wait(timeout: .zero) == nil }
    }

    /// What the gateway has logged so far.
    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// The end of the gateway's log, for failure messages.
    var logTail: String { log.split(separator: "\n").suffix(30).joined(separator: "\n") }

    /// Graceful stop (SIGTERM), SIGKILL if it lingers.
    func stop() async { await process.stop() }

    /// Dies at once, as in a crash or an OOM kill.
    func kill() async {
        process.signal(SIGKILL)
        _ = await process.wait(timeout: .seconds(10))
    }

    /// One request, with the token when given; fails after `timeout` rather than waiting on a
    /// gateway that never answers.
    func request(_ path: String, token: String? = nil, timeout: Duration = .seconds(15)) async throws -> ClientResponse {
        let port = self.port
        let once = NIOLockedValueBox<CheckedContinuation<ClientResponse, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { continuation in
            once.withLockedValue { $0 = continuation }
            let resume: @Sendable (Result<ClientResponse, any Error>) -> Void = { result in
                once.withLockedValue { pending in
                    pending?.resume(with: result)
                    pending = nil
                }
            }
            let work = Task {
                do {
                    resume(.success(try await TestHTTPClient.request(
                        group: testGroup, port: port, path: path,
                        headers: token.map { [("X-Session-Token", $0)] } ?? [])))
                } catch {
                    resume(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                resume(.failure(ExternalError("no answer from 127.0.0.1:\(port)\(path) within \(timeout)")))
                work.cancel()
            }
        }
    }
}
