import Foundation

/// The Public Suffix List (https://publicsuffix.org/list/) and its algorithm.
///
/// Both the ICANN and the PRIVATE sections count, as in browsers. Rules with non-ASCII labels
/// are stored both as written and in Punycode (`xn--` A-labels), since hosts arrive in A-label
/// form. Lookups hash byte slices of the domain against an open-addressing table of the rules:
/// no regular expressions, no per-label String allocation.
///
/// `PublicSuffixList.default` is loaded once, lazily: Debian's
/// `/usr/share/publicsuffix/public_suffix_list.dat` (package `publicsuffix`) when present, else
/// the copy bundled with this module.
public struct PublicSuffixList: Sendable {
    let table: RuleTable
    /// Where the rules came from (a file path, "bundled", "text" or "empty"), for diagnostics.
    public let source: String

    /// Where Debian's `publicsuffix` package installs the list.
    public static let systemPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    /// The list used by ``CookiePolicy/default``; loaded on first use.
    public static let `default`: PublicSuffixList = {
        if FileManager.default.isReadableFile(atPath: systemPath),
           let list = try? PublicSuffixList(contentsOfFile: systemPath), list.ruleCount > 0 {
            return list
        }
        if let list = bundled { return list }
        return PublicSuffixList(text: "", source: "empty")
    }()

    /// The copy of the list bundled with this module, if its resource bundle can be found.
    public static let bundled: PublicSuffixList? = {
        // SwiftPM's generated `Bundle.module` traps when the bundle is missing (an executable
        // copied without its `.resources` directory), so look for it first.
        guard moduleBundleIsPresent,
              let url = Bundle.module.url(forResource: "public_suffix_list", withExtension: "dat"),
              let list = try? PublicSuffixList(contentsOfFile: url.path)
        else { return nil }
        return PublicSuffixList(table: list.table, source: "bundled")
    }()

    /// Whether this module's resource bundle sits where `Bundle.module` looks first: beside the
    /// executable (Linux: `tokenjar_CookieEngine.resources`; Darwin: `tokenjar_CookieEngine.bundle`).
    static var moduleBundleIsPresent: Bool {
        var bases = [Bundle.main.bundleURL]
        if let r = Bundle.main.resourceURL { bases.append(r) }
        for base in bases {
            for name in ["tokenjar_CookieEngine.resources", "tokenjar_CookieEngine.bundle"]
            where FileManager.default.fileExists(atPath: base.appendingPathComponent(name).path) {
                return true
            }
        }
        return false
    }

    /// Parses a list in the publicsuffix.org format.
    public init(text: String) {
        self.init(text: text, source: "text")
    }

    /// Reads and parses a list file.
    public init(contentsOfFile path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        self.init(text: String(decoding: data, as: UTF8.self), source: path)
    }

    init(text: String, source: String) {
        self.table = RuleTable(rules: PublicSuffixList.parseRules(text))
        self.source = source
    }

    init(table: RuleTable, source: String) {
        self.table = table
        self.source = source
    }

    /// The number of distinct rule strings (normal, wildcard and exception rules together).
    public var ruleCount: Int { table.count }

    /// Whether `domain` (lower-case, no leading or trailing dot) is itself a public suffix: `com`,
    /// `co.uk`, anything matched by a wildcard such as `*.ck` (unless excepted, like `www.ck`),
    /// and any single label (the implicit `*` rule).
    public func isPublicSuffix(_ domain: some StringProtocol) -> Bool {
        withUTF8Bytes(of: domain) { buf in
            buf.count > 0 && publicSuffixStart(buf, 0, buf.count) == 0
        }
    }

    /// The public suffix of `domain` per the PSL algorithm (the implicit `*` rule applies when
    /// nothing matches), or nil for an empty domain.
    public func publicSuffix(of domain: some StringProtocol) -> String? {
        withUTF8Bytes(of: domain) { buf in
            guard buf.count > 0 else { return nil }
            return buf.string(publicSuffixStart(buf, 0, buf.count)..<buf.count)
        }
    }

    /// The registrable domain (public suffix plus one label) of `domain`, or nil when the domain
    /// is itself a public suffix.
    public func registrableDomain(of domain: some StringProtocol) -> String? {
        withUTF8Bytes(of: domain) { buf in
            guard buf.count > 0 else { return nil }
            let ps = publicSuffixStart(buf, 0, buf.count)
            guard ps > 0 else { return nil }
            var k = ps - 1  // the dot before the suffix
            while k > 0, buf[k - 1] != ASCII.dot { k -= 1 }
            return buf.string(k..<buf.count)
        }
    }

    /// Byte offset in `buf` where the public suffix of the domain `lo..<hi` starts.
    @inline(__always)
    func publicSuffixStart(_ buf: Bytes, _ lo: Int, _ hi: Int) -> Int {
        var longest = -1
        var start = lo
        while true {
            // Candidate suffix start..<hi; parent = after its first dot.
            var dot = start
            while dot < hi, buf[dot] != ASCII.dot { dot += 1 }
            let kinds = table.lookup(buf, start, hi)
            if kinds & RuleTable.exception != 0 {
                // An exception rule prevails; the public suffix is the rule minus its first label.
                return dot < hi ? dot + 1 : hi
            }
            if longest < 0 {
                if kinds & RuleTable.normal != 0 {
                    longest = start
                } else if dot < hi, table.lookup(buf, dot + 1, hi) & RuleTable.wildcard != 0 {
                    longest = start
                }
            }
            if dot >= hi { break }
            start = dot + 1
        }
        if longest >= 0 { return longest }
        // The implicit "*" rule: the last label.
        var k = hi
        while k > lo, buf[k - 1] != ASCII.dot { k -= 1 }
        return k
    }

    /// (rule bytes, kind) pairs of a list.
    static func parseRules(_ text: String) -> [([UInt8], UInt8)] {
        var rules: [([UInt8], UInt8)] = []
        rules.reserveCapacity(10_000)
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.drop(while: { $0 == " " || $0 == "\t" })
            if line.isEmpty || line.hasPrefix("//") { continue }
            guard let token = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first else { continue }
            var rule = Substring(token)
            var kind = RuleTable.normal
            if rule.hasPrefix("!") {
                kind = RuleTable.exception
                rule = rule.dropFirst()
            } else if rule.hasPrefix("*.") {
                kind = RuleTable.wildcard
                rule = rule.dropFirst(2)
            }
            while rule.hasPrefix(".") { rule = rule.dropFirst() }
            while rule.hasSuffix(".") { rule = rule.dropLast() }
            if rule.isEmpty { continue }
            let lowered = rule.lowercased()
            rules.append((Array(lowered.utf8), kind))
            if lowered.utf8.contains(where: { $0 >= 0x80 }), let ascii = Punycode.toASCII(domain: lowered) {
                rules.append((Array(ascii.utf8), kind))
            }
        }
        return rules
    }
}

/// An immutable open-addressing hash table from rule strings to a bit set of rule kinds.
final class RuleTable: Sendable {
    static let normal: UInt8 = 1
    static let wildcard: UInt8 = 2
    static let exception: UInt8 = 4

    struct Slot: Sendable {
        var hash: UInt32
        var length: UInt32
        var offset: UInt32
        var kinds: UInt8
    }

    let arena: [UInt8]
    let slots: [Slot]
    let mask: Int
    let count: Int

    init(rules: [([UInt8], UInt8)]) {
        var merged: [[UInt8]: UInt8] = [:]
        merged.reserveCapacity(rules.count)
        for (bytes, kind) in rules { merged[bytes, default: 0] |= kind }
        var size = 16
        while size < merged.count * 2 { size <<= 1 }
        var slots = [Slot](repeating: Slot(hash: 0, length: 0, offset: 0, kinds: 0), count: size)
        var arena: [UInt8] = []
        arena.reserveCapacity(merged.keys.reduce(0) { $0 + $1.count })
        for (bytes, kinds) in merged.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let h = bytes.withUnsafeBufferPointer { RuleTable.hash($0, 0, $0.count) }
            var i = Int(h) & (size - 1)
            while slots[i].kinds != 0 { i = (i + 1) & (size - 1) }
            slots[i] = Slot(hash: h, length: UInt32(bytes.count), offset: UInt32(arena.count), kinds: kinds)
            arena.append(contentsOf: bytes)
        }
        self.arena = arena
        self.slots = slots
        self.mask = size - 1
        self.count = merged.count
    }

    /// FNV-1a, folded to 32 bits.
    @inline(__always)
    static func hash(_ buf: Bytes, _ lo: Int, _ hi: Int) -> UInt32 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var i = lo
        while i < hi {
            h = (h ^ UInt64(buf[i])) &* 0x0000_0100_0000_01B3
            i += 1
        }
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }

    /// The kinds of the rule spelled by `buf[lo..<hi]`, or 0.
    @inline(__always)
    func lookup(_ buf: Bytes, _ lo: Int, _ hi: Int) -> UInt8 {
        if hi <= lo { return 0 }
        let h = RuleTable.hash(buf, lo, hi)
        let n = UInt32(hi - lo)
        return slots.withUnsafeBufferPointer { slots in
            arena.withUnsafeBufferPointer { arena in
                var i = Int(h) & mask
                while true {
                    let s = slots[i]
                    if s.kinds == 0 { return 0 }
                    if s.hash == h, s.length == n,
                       bytesEqual(arena.baseAddress! + Int(s.offset), buf.baseAddress! + lo, Int(n)) {
                        return s.kinds
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }
}

/// Punycode (RFC 3492) encoding of domain labels, enough to turn the list's U-label rules into
/// the A-labels hosts carry.
enum Punycode {
    static func toASCII(domain: String) -> String? {
        var labels: [String] = []
        for label in domain.split(separator: ".", omittingEmptySubsequences: false) {
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                labels.append(String(label))
            } else {
                guard let enc = encode(Array(label.unicodeScalars.map { $0.value })) else { return nil }
                labels.append("xn--" + enc)
            }
        }
        return labels.joined(separator: ".")
    }

    /// RFC 3492 §6.3 encoding of a label's code points.
    static func encode(_ input: [UInt32]) -> String? {
        let base: UInt32 = 36, tmin: UInt32 = 1, tmax: UInt32 = 26
        var n: UInt32 = 128, delta: UInt32 = 0, bias: UInt32 = 72
        var output: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let b = UInt32(output.count)
        var h = b
        if b > 0 { output.append(0x2D) }
        func digit(_ d: UInt32) -> UInt8 { d < 26 ? UInt8(0x61 + d) : UInt8(0x30 + d - 26) }
        func adapt(_ d0: UInt32, _ numPoints: UInt32, _ first: Bool) -> UInt32 {
            var d = first ? d0 / 700 : d0 / 2
            d += d / numPoints
            var k: UInt32 = 0
            while d > ((base - tmin) * tmax) / 2 {
                d /= base - tmin
                k += base
            }
            return k + (base - tmin + 1) * d / (d + 38)
        }
        while h < UInt32(input.count) {
            guard let m = input.filter({ $0 >= n }).min() else { return nil }
            let (mul, o1) = (m - n).multipliedReportingOverflow(by: h + 1)
            let (sum, o2) = delta.addingReportingOverflow(mul)
            if o1 || o2 { return nil }
            delta = sum
            n = m
            for c in input {
                if c < n {
                    delta += 1
                    if delta == 0 { return nil }
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, h + 1, h == b)
                    delta = 0
                    h += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}
