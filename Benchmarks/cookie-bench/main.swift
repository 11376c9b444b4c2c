// Release-mode microbenchmarks of the cookie engine (not tests).
//
//   swift build -c release --product cookie-bench && .build/release/cookie-bench [--seconds S] [--runs N]
//
// Each benchmark runs N timed runs of about S seconds on one thread and prints the median rate
// (and the spread of the runs).

import CookieEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

var seconds = 2.0
var runs = 5
var filter: String?
do {
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        switch a {
        case "--seconds": seconds = Double(args.popFirst() ?? "") ?? seconds
        case "--runs": runs = Int(args.popFirst() ?? "") ?? runs
        case "--only": filter = args.popFirst()
        default:
            print("usage: cookie-bench [--seconds S] [--runs N] [--only NAME]")
            exit(2)
        }
    }
}

/// Seconds of CPU time used by this thread so far.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Seconds of wall-clock (monotonic) time.
func wallSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

struct Sample {
    var wallRate: Double
    var cpuRate: Double
    var checksum: Int
}

/// Runs `body` (which performs `batch` operations and returns a checksum) repeatedly for about
/// `seconds` of wall-clock time; returns operations per wall-clock second and per second of
/// this thread's CPU time (the latter is what one core does when the machine is shared).
@MainActor @inline(never)
func measure(batch: Int, _ body: () -> Int) -> Sample {
    var ops = 0
    var checksum = 0
    let wall0 = wallSeconds(), cpu0 = threadCPUSeconds()
    var wall = 0.0
    repeat {
        checksum &+= body()
        ops += batch
        wall = wallSeconds() - wall0
    } while wall < seconds
    let cpu = threadCPUSeconds() - cpu0
    return Sample(wallRate: Double(ops) / wall, cpuRate: Double(ops) / cpu, checksum: checksum)
}

func grouped(_ v: Double) -> String {
    let s = String(Int(v.rounded()))
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return String(out.reversed())
}

@MainActor
func report(_ name: String, unit: String, batch: Int, _ body: () -> Int) {
    if let filter, !name.contains(filter) { return }
    _ = measure(batch: batch, body)  // warm-up
    var samples: [Sample] = []
    for _ in 0..<runs { samples.append(measure(batch: batch, body)) }
    let wall = samples.map(\.wallRate).sorted()
    let cpu = samples.map(\.cpuRate).sorted()
    let checksum = samples.reduce(0) { $0 &+ $1.checksum }
    print("\(name): \(grouped(cpu[cpu.count / 2])) \(unit)/s per CPU-second, \(grouped(wall[wall.count / 2])) \(unit)/s wall-clock"
        + "  (medians of \(runs) runs of ~\(seconds) s; wall min \(grouped(wall.first!)) max \(grouped(wall.last!)); checksum \(checksum & 0xFFFF))")
}

let start = CookieTime(iso8601: "2026-01-01T00:00:00Z")!
let policy = CookiePolicy.default
let backend = CookieURL(string: "http://api.example.com/app/login")!

// Typical Set-Cookie lines of about 80 bytes: a session-like cookie with Path, Expires, HttpOnly.
let hex = Array("0123456789abcdef")
let lines: [String] = (0..<16).map { i in
    let value = String((0..<20).map { hex[($0 * 7 + i) % 16] })
    return "s\(i)=\(value); Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"
}
let meanLength = Double(lines.reduce(0) { $0 + $1.utf8.count }) / Double(lines.count)
print("cookie-bench: \(runs) runs of ~\(seconds) s per benchmark, one thread")
print("Set-Cookie line: \(lines[0].debugDescription) (\(lines[0].utf8.count) bytes; mean \(meanLength))")

// 1. Set-Cookie lines parsed and applied to a jar (each replaces one of 16 cookies).
do {
    var jar = CookieJar(policy: policy)
    var now = start
    report("set-cookie parse+apply", unit: "lines", batch: 1024) {
        var n = 0
        for i in 0..<1024 {
            now = now.adding(microseconds: 1)
            let changes = jar.receive(setCookie: CollectionOfOne(lines[i & 15]), from: backend, now: now)
            n &+= changes.upserted.count
        }
        return n
    }
}

// 2. The same through the single-value entry point.
do {
    var jar = CookieJar(policy: policy)
    var now = start
    report("set-cookie parse+apply (single value)", unit: "lines", batch: 1024) {
        var n = 0
        for i in 0..<1024 {
            now = now.adding(microseconds: 1)
            n &+= jar.receive(setCookie: lines[i & 15], from: backend, now: now).upserted.count
        }
        return n
    }
}

// 3. Cookie headers from a 20-cookie jar (all 20 apply to the request).
do {
    var jar = CookieJar(policy: policy)
    var setCookies: [String] = []
    for i in 0..<16 { setCookies.append("c\(i)=\(String(repeating: "v", count: 10 + i)); Path=/") }
    for i in 0..<3 { setCookies.append("app\(i)=value\(i); Path=/app; Max-Age=3600") }
    setCookies.append("shared=1; Domain=example.com; Path=/")
    jar.receive(setCookie: setCookies, from: backend, now: start)
    precondition(jar.count == 20)
    let header = jar.cookieHeader(for: backend, now: start)!
    print("Cookie header: \(header.utf8.count) bytes, \(header.split(separator: ";").count) cookies")
    var now = start
    report("cookie header build (20-cookie jar)", unit: "headers", batch: 1024) {
        var n = 0
        for _ in 0..<1024 {
            now = now.adding(microseconds: 1)
            n &+= jar.cookieHeader(for: backend, now: now)?.utf8.count ?? 0
        }
        return n
    }
}

// 4. Splitting a folded value of three cookies with dates.
do {
    let folded = "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/, b=2; Path=/app, c={\"x\":1,\"y\":2}"
    report("split folded value (3 cookies)", unit: "values", batch: 1024) {
        var n = 0
        for _ in 0..<1024 { n &+= SetCookieSplitter.split(folded).count }
        return n
    }
}

// 5. Public-suffix decisions.
do {
    let psl = policy.publicSuffixes
    let domains = ["example.com", "co.uk", "www.ck", "foo.bar.kawasaki.jp", "home.example.org", "com"]
    report("public suffix check", unit: "lookups", batch: 1200) {
        var n = 0
        for _ in 0..<200 {
            for d in domains where psl.isPublicSuffix(d) { n += 1 }
        }
        return n
    }
}

// 6. Codec round trip.
do {
    var jar = CookieJar(policy: policy)
    jar.receive(setCookie: lines[0], from: backend, now: start)
    let cookie = jar.cookies[0]
    report("codec encode+decode", unit: "cookies", batch: 1024) {
        var n = 0
        for _ in 0..<1024 {
            let bytes = CookieCodec.encode(cookie)
            n &+= (try? CookieCodec.decode(bytes))?.value.utf8.count ?? 0
        }
        return n
    }
}
