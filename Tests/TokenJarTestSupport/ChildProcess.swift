#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A child process started with posix_spawn, for the real programs tests run (php, postgres,
/// the gateway binary). Stopping it never depends on a run loop.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private var reaped = false
    private let lock = NSLock()

    /// Starts `path` with `arguments`; output goes to `logFile` (or /dev/null).
    public init(_ path: String, _ arguments: [String], environment: [String: String]? = nil, logFile: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let out = logFile ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // NIO opens its sockets without close-on-exec: without this a child would hold copies of
        // the tests' listeners and connections, so a backend a test stops would keep accepting
        // (into the child's copy) and its connections would not close until the child exits.
        Self.closeInheritedDescriptors(&actions)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, env)
        guard rc == 0 else { throw ExternalError("cannot start \(path): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Adds actions that close every descriptor from 3 up in the child: glibc's
    /// `posix_spawn_file_actions_addclosefrom_np` (2.34 and later, looked up at run time as the
    /// Glibc module does not export it), else a close for each descriptor open now.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }

    /// Sends a signal (SIGTERM by default).
    public func signal(_ sig: Int32 = SIGTERM) { _ = kill(pid, sig) }

    /// Waits for the exit status, up to `timeout`; nil when still running.
    public func wait(timeout: Duration = .seconds(10)) async -> Int32? {
        let end = ContinuousClock.now + timeout
        while true {
            var status: Int32 = 0
            let r: pid_t = lock.withLock {
                if reaped { return pid }
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { reaped = true }
                return r
            }
            if r == pid {
                // WIFEXITED → WEXITSTATUS; otherwise 128 + the signal
                if status & 0x7f == 0 { return (status >> 8) & 0xff }
                return 128 + (status & 0x7f)
            }
            if r < 0 || ContinuousClock.now >= end { return r < 0 ? -1 : nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// SIGTERM (or the given signal), then SIGKILL if it does not go within two seconds.
    public func stop(_ sig: Int32 = SIGTERM) async {
        signal(sig)
        if await wait(timeout: .seconds(2)) == nil {
            signal(SIGKILL)
            _ = await wait(timeout: .seconds(5))
        }
    }
}
