#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time for sessions and cookies. Injected so tests can move time.
public protocol GatewayClock: Sendable {
    /// Microseconds since the Unix epoch.
    func nowMicros() -> Int64
}

extension GatewayClock {
    /// Seconds since the Unix epoch.
    public func nowSeconds() -> Int64 { nowMicros() / 1_000_000 }
}

/// The system's real-time clock.
public struct SystemGatewayClock: GatewayClock {
    public init() {}

    public func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }
}
