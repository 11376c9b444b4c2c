import Foundation
import NIOCore
import NIOPosix

/// Real programs the tests start (PHP, PostgreSQL). Missing programs skip their tests, except
/// under the project's test script, which sets TOKENJAR_REQUIRE_EXTERNAL=1 and so turns such a
/// skip into a failure.
public enum External {
    public static var required: Bool { ProcessInfo.processInfo.environment["TOKENJAR_REQUIRE_EXTERNAL"] == "1" }

    /// The full path of a program on PATH (or in the usual Debian places).
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether tests needing `name` should run: it is installed, or it is required.
    public static func enabled(_ name: String) -> Bool { find(name) != nil || required }

    /// A loopback port that was free a moment ago, for programs that cannot bind port 0
    /// themselves. It is drawn below the kernel's ephemeral range (32768 and up), so servers
    /// that other tests bind to port 0 meanwhile cannot take it.
    public static func freePort() async throws -> Int {
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
    public static func waitForPort(_ port: Int, timeout: Duration = .seconds(10)) async throws {
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

    public static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenjar-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

public struct ExternalError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
