#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time for the cookie engine: microseconds since the Unix epoch (UTC).
///
/// Every engine call that depends on time takes a `CookieTime` explicitly, so behaviour is
/// reproducible; obtain one from a ``CookieClock``.
public struct CookieTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microsecondsSinceEpoch: Int64

    @inlinable
    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// A time given in whole seconds since the epoch.
    @inlinable
    public init(unixSeconds: Int64) {
        self.microsecondsSinceEpoch = unixSeconds.multipliedReportingOverflow(by: 1_000_000).overflow
            ? (unixSeconds < 0 ? Int64.min : Int64.max)
            : unixSeconds * 1_000_000
    }

    /// Whole seconds since the epoch (rounded towards negative infinity).
    @inlinable
    public var unixSeconds: Int64 {
        let q = microsecondsSinceEpoch / 1_000_000
        return (microsecondsSinceEpoch % 1_000_000 < 0) ? q - 1 : q
    }

    /// The earliest representable time; the expiry given to a cookie deleted by `Max-Age` ≤ 0.
    public static let earliest = CookieTime(microsecondsSinceEpoch: Int64.min)
    /// The latest representable time.
    public static let latest = CookieTime(microsecondsSinceEpoch: Int64.max)

    /// This time moved by `seconds` (saturating at the representable bounds).
    @inlinable
    public func adding(seconds: Int64) -> CookieTime {
        adding(microseconds: seconds.multipliedReportingOverflow(by: 1_000_000).overflow
            ? (seconds < 0 ? Int64.min : Int64.max) : seconds * 1_000_000)
    }

    /// This time moved by `microseconds` (saturating at the representable bounds).
    @inlinable
    public func adding(microseconds: Int64) -> CookieTime {
        let (r, o) = microsecondsSinceEpoch.addingReportingOverflow(microseconds)
        if o { return microseconds < 0 ? .earliest : .latest }
        return CookieTime(microsecondsSinceEpoch: r)
    }

    @inlinable
    public static func < (a: CookieTime, b: CookieTime) -> Bool {
        a.microsecondsSinceEpoch < b.microsecondsSinceEpoch
    }

    /// ISO 8601 in UTC, e.g. `2026-01-01T00:00:00Z` (fractional seconds shown when present).
    public var description: String { iso8601 }

    /// ISO 8601 in UTC, e.g. `2026-01-01T00:00:00Z` (fractional seconds shown when present).
    public var iso8601: String {
        if self == .earliest { return "-infinity" }
        if self == .latest { return "+infinity" }
        let secs = unixSeconds
        let micros = microsecondsSinceEpoch - secs * 1_000_000
        let (y, m, d) = CivilDate.fromDays(Self.floorDiv(secs, 86_400))
        let sod = secs - Self.floorDiv(secs, 86_400) * 86_400
        var s = Self.pad(y, 4) + "-" + Self.pad(Int64(m), 2) + "-" + Self.pad(Int64(d), 2)
        s += "T" + Self.pad(sod / 3600, 2) + ":" + Self.pad(sod / 60 % 60, 2) + ":" + Self.pad(sod % 60, 2)
        if micros != 0 { s += "." + Self.pad(micros, 6) }
        return s + "Z"
    }

    /// Parses an ISO 8601 / RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`
    /// (a space may stand for `T`; `z` and `t` in lower case are accepted).
    public init?(iso8601 text: some StringProtocol) {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + n) {
                let c = b[k] &- 0x30
                guard c < 10 else { return nil }
                v = v * 10 + Int64(c)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = digits(4), expect(0x2D), let mo = digits(2), expect(0x2D), let d = digits(2) else { return nil }
        guard i < b.count, b[i] == 0x54 || b[i] == 0x74 || b[i] == 0x20 else { return nil }
        i += 1
        guard let h = digits(2), expect(0x3A), let mi = digits(2), expect(0x3A), let s = digits(2) else { return nil }
        var micros: Int64 = 0
        if i < b.count, b[i] == 0x2E || b[i] == 0x2C {
            i += 1
            var scale: Int64 = 100_000
            var any = false
            while i < b.count, b[i] &- 0x30 < 10 {
                micros += Int64(b[i] &- 0x30) * scale
                scale /= 10
                any = true
                i += 1
            }
            guard any else { return nil }
        }
        var offset: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            let sign: Int64 = b[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = digits(2) else { return nil }
            _ = expect(0x3A)
            guard let om = digits(2), oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count, (1...12).contains(mo), d >= 1, d <= Int64(CivilDate.daysInMonth(y, Int(mo))),
              h < 24, mi < 60, s < 61
        else { return nil }
        let days = CivilDate.days(y, Int(mo), Int(d))
        let secs = days * 86_400 + h * 3600 + mi * 60 + min(s, 59) - offset
        self.init(microsecondsSinceEpoch: secs * 1_000_000 + micros)
    }

    @usableFromInline
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// Proleptic Gregorian calendar arithmetic (days since 1970-01-01).
enum CivilDate {
    /// Days since 1970-01-01 of a civil date (month 1...12).
    @inline(__always)
    static func days(_ year: Int64, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func fromDays(_ z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (m <= 2 ? y + 1 : y, m, d)
    }

    @inline(__always)
    static func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    @inline(__always)
    static func daysInMonth(_ y: Int64, _ m: Int) -> Int {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// A source of the current time for callers of the engine (the engine itself never reads a clock).
public protocol CookieClock: Sendable {
    func now() -> CookieTime
}

/// The system's real-time clock.
public struct SystemCookieClock: CookieClock {
    public init() {}

    public func now() -> CookieTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return CookieTime(microsecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }
}

/// A clock that only moves when told to; for tests and replays.
public struct ManualCookieClock: CookieClock {
    public var current: CookieTime

    public init(_ start: CookieTime) { self.current = start }

    public func now() -> CookieTime { current }

    public mutating func advance(seconds: Int64) { current = current.adding(seconds: seconds) }

    public mutating func advance(microseconds: Int64) { current = current.adding(microseconds: microseconds) }

    public mutating func set(_ time: CookieTime) { current = time }
}
