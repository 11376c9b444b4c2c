// libFuzzer target: the cookie-date parser (RFC 6265bis §5.1.1). Built only with
// `swift build --sanitize=fuzzer` (see scripts/fuzz); in a plain build it does nothing.
//
// Invariants: no crash; a parsed date is not before 1601; formatting it and parsing the result
// gives the same time back.
import CookieEngine

let earliestCookieDate = CookieTime(unixSeconds: -11_644_473_600)  // 1601-01-01T00:00:00Z

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCookieDate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let time = CookieDate.parse(text) else { return 0 }
    if time < earliestCookieDate { fatalError("cookie-date before 1601: \(time)") }
    if time.microsecondsSinceEpoch % 1_000_000 != 0 { fatalError("cookie-date with a fraction of a second") }
    let formatted = CookieDate.format(time)
    guard let again = CookieDate.parse(formatted), again == time else {
        fatalError("format/parse round trip changed \(time) (\(formatted))")
    }
    _ = CookieDate.parse(text[...].dropFirst())
    return 0
}
