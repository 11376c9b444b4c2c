import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

/// The real `tokenjar serve` on the embedded SQLite store, killed with SIGKILL while it writes:
/// after a restart on the same file every acknowledged cookie is there, and the file is sound.
@Suite("SQLite store survives a crash", .serialized)
struct SQLiteCrashTests {
    @Test("SIGKILL during cookie writes loses no acknowledged cookie; the restarted gateway serves them all")
    func killDuringWrites() async throws {
        let directory = try External.temporaryDirectory("sqlite-crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = try await PostgresGatewayTests.cookieBackend()
        let store = "sqlite:" + directory.appendingPathComponent("jars.db").path
        let plaintext = ["TOKENJAR_STORE_ALLOW_PLAINTEXT": "true", "TOKENJAR_COOKIES_MAX_PER_DOMAIN": "3000"]

        let first = try await GatewayProcess.start(
            store: store, upstream: backend.port, environment: plaintext, logDirectory: directory, name: "first")
        let minted = try await first.request("/set?n=base&v=1")
        let token = try #require(minted.headers.first(name: "X-Session-Token"))
        let acknowledged = NIOLockedValueBox<[String]>(["base"])
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for n in 0..<400 where ContinuousClock.now - start < .seconds(15) {
                        let name = "w\(worker)n\(n)"
                        // Only a 200 is an acknowledgement; the killed process answers nothing.
                        if let response = try? await first.request("/set?n=\(name)&v=1", token: token, timeout: .seconds(5)),
                           response.status == .ok {
                            acknowledged.withLockedValue { $0.append(name) }
                        }
                    }
                }
            }
            group.addTask {
                // Killed mid-stream once enough writes were acknowledged (however slow the
                // machine), or after ten seconds at the latest.
                while acknowledged.withLockedValue({ $0.count }) < 40, ContinuousClock.now - start < .seconds(10) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                await first.kill()
            }
            try await group.waitForAll()
        }
        #expect(!(await first.isRunning))
        let acked = acknowledged.withLockedValue { $0 }
        #expect(acked.count > 20, "too few writes to mean anything: \(acked.count)")

        if let sqlite3 = External.find("sqlite3") {
            let output = directory.appendingPathComponent("integrity.txt").path
            let process = try ChildProcess(sqlite3, [directory.appendingPathComponent("jars.db").path, "PRAGMA integrity_check"], logFile: output)
            #expect(await process.wait(timeout: .seconds(10)) == 0)
            let check = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(check.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "integrity_check: \(check)")
        } else {
            #expect(!External.required, "sqlite3 is not installed; scripts/test installs it")
        }

        let second = try await GatewayProcess.start(
            store: store, upstream: backend.port, environment: plaintext, logDirectory: directory, name: "second")
        let jar = try await second.request("/echo", token: token)
        await second.stop()
        await backend.stop()
        #expect(jar.status == .ok)
        #expect(jar.headers.first(name: "X-Session-Token") == nil, "the token survived the crash")
        let missing = acked.filter { !jar.body.contains("\($0)=1") }
        #expect(missing.isEmpty, "acknowledged but lost: \(missing)")
        print("SQLite, SIGKILL during writes: \(acked.count) cookies acknowledged, none lost")
    }
}
