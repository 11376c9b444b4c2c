#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback port that refuses connections for as long as this value lives: a socket bound to
/// it that never listens. A port that was merely free a moment ago can be taken meanwhile by a
/// server of a test running in parallel; this one cannot, because the socket holds it (without
/// `SO_REUSEADDR`, no other socket may bind it) and a connect to it is answered with a reset.
public final class RefusingPort: Sendable {
    public let port: Int
    private let descriptor: Int32

    public init() throws {
        #if canImport(Darwin)
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #else
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { throw ExternalError("socket() failed (errno \(errno))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bind(fd, sockaddrPointer, length) == 0 && getsockname(fd, sockaddrPointer, &length) == 0
            }
        }
        guard bound else {
            let error = errno
            close(fd)
            throw ExternalError("cannot reserve a loopback port (errno \(error))")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }

    /// Runs `body` with the port held, and frees it afterwards.
    public static func with<R>(_ body: (Int) async throws -> R) async throws -> R {
        let reserved = try RefusingPort()
        defer { withExtendedLifetime(reserved) {} }
        return try await body(reserved.port)
    }
}
