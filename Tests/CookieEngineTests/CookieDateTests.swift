import Foundation
import Testing

@testable import CookieEngine

/// RFC 6265bis §5.1.1, checked against Foundation's calendar as an independent oracle.
@Suite("Cookie dates (§5.1.1)")
struct CookieDateTests {
    /// Unix seconds of a UTC date, computed by Foundation.
    static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Int64 {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let date = cal.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))!
        return Int64(date.timeIntervalSince1970.rounded())
    }

    static let valid: [(String, Int64)] = [
        // The three HTTP date formats (RFC 9110 §5.6.7).
        ("Sun, 06 Nov 1994 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),
        ("Sunday, 06-Nov-94 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),
        ("Sun Nov  6 08:49:37 1994", utc(1994, 11, 6, 8, 49, 37)),
        // Common cookie forms, including Netscape's dashes and lower case.
        ("Wed, 21 Oct 2026 07:28:00 GMT", utc(2026, 10, 21, 7, 28)),
        ("Thu, 01-Jan-2037 00:00:00 GMT", utc(2037, 1, 1)),
        ("thu, 01 jan 2037 00:00:00 gmt", utc(2037, 1, 1)),
        ("THURSDAY, 01-JAN-37 00:00:00 GMT", utc(2037, 1, 1)),
        ("Thursday, 01-Jan-70 00:00:01 GMT", 1),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ("Fri, 07 Aug 9999 08:04:19 GMT", utc(9999, 8, 7, 8, 4, 19)),
        // Two-digit years: 70-99 -> 19xx, 00-69 -> 20xx.
        ("01 Jan 70 00:00:00 GMT", utc(1970, 1, 1)),
        ("01 Jan 99 00:00:00 GMT", utc(1999, 1, 1)),
        ("01 Jan 00 00:00:00 GMT", utc(2000, 1, 1)),
        ("01 Jan 69 00:00:00 GMT", utc(2069, 1, 1)),
        ("Sat, 15-Apr-17 21:01:22 GMT", utc(2017, 4, 15, 21, 1, 22)),
        // Lenient token order and content (the http-state dates tables have these shapes).
        ("Tue, 18 Oct 2011 07:42:42.123 GMT", utc(2011, 10, 18, 7, 42, 42)),
        ("18 Oct 2011 07:42:42 GMT", utc(2011, 10, 18, 7, 42, 42)),
        ("8 Oct 2011 7:42:42 GMT", utc(2011, 10, 8, 7, 42, 42)),
        ("8 Oct 2011 7:2:42 GMT", utc(2011, 10, 8, 7, 2, 42)),
        ("Oct 18 2011 07:42:42 GMT", utc(2011, 10, 18, 7, 42, 42)),
        ("Tue Oct 18 2011 07:05:03 GMT+0000 (GMT)", utc(2011, 10, 18, 7, 5, 3)),
        ("09 Jun 2021 10:18:14 GMT", utc(2021, 6, 9, 10, 18, 14)),
        ("2021 Jun 09 10:18:14", utc(2021, 6, 9, 10, 18, 14)),
        ("10:18:14 09 June 2021", utc(2021, 6, 9, 10, 18, 14)),
        ("Thu Jan 1 00:00:00 1970 GMT", 0),
        ("01 Jan 2020 00:00:00xyz", utc(2020, 1, 1)),
        ("29 Feb 2024 12:00:00 GMT", utc(2024, 2, 29, 12)),
        ("31 Dec 9999 23:59:59 GMT", utc(9999, 12, 31, 23, 59, 59)),
        // The earliest year accepted.
        ("01 Jan 1601 00:00:00 GMT", utc(1601, 1, 1)),
    ]

    @Test("valid dates", arguments: valid)
    func validDates(_ text: String, _ unix: Int64) {
        #expect(CookieDate.parse(text) == CookieTime(unixSeconds: unix))
    }

    static let invalid: [String] = [
        "",
        "GMT",
        "99 Jix 3038 48:86:72 ZMT",  // from the http-state dates table
        "01 Jan 2020",  // no time
        "Jan 2020 00:00:00",  // no day of month
        "01 2020 00:00:00",  // no month
        "01 Jan 00:00:00",  // no year
        "32 Jan 2020 00:00:00 GMT",  // day > 31
        "00 Jan 2020 00:00:00 GMT",  // day < 1
        "30 Feb 2021 00:00:00 GMT",  // no such date
        "29 Feb 2023 00:00:00 GMT",  // not a leap year
        "31 Apr 2021 00:00:00 GMT",
        "01 Jan 2020 24:00:00 GMT",  // hour > 23
        "01 Jan 2020 23:60:00 GMT",  // minute > 59
        "01 Jan 2020 23:59:60 GMT",  // second > 59
        "31 Dec 1600 23:59:59 GMT",  // year < 1601
        "01 Jan 999 00:00:00 GMT",  // three-digit year stays < 1601
        "01 Jan 20201 00:00:00 GMT",  // five digits are no year
        "01 Jan 2020 001:00:00 GMT",  // three-digit time field
        "123 Jan 2020 00:00:00 GMT",  // three digits are no day
    ]

    @Test("invalid dates", arguments: invalid)
    func invalidDates(_ text: String) {
        #expect(CookieDate.parse(text) == nil)
    }

    @Test("Substring input and formatting round trip")
    func formatting() throws {
        let t = try #require(CookieDate.parse("x Wed, 21 Oct 2026 07:28:00 GMT".dropFirst(2)))
        #expect(CookieDate.format(t) == "Wed, 21 Oct 2026 07:28:00 GMT")
        #expect(CookieDate.format(CookieTime(unixSeconds: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(CookieDate.format(CookieTime(unixSeconds: -86_400 * 10)) == "Mon, 22 Dec 1969 00:00:00 GMT")
        for unix: Int64 in [0, 784_111_777, 1_798_243_200, 253_402_300_799, -11_644_473_600] {
            let time = CookieTime(unixSeconds: unix)
            #expect(CookieDate.parse(CookieDate.format(time)) == time)
        }
    }

    @Test("ISO 8601 times and clocks")
    func isoAndClocks() throws {
        #expect(t0.unixSeconds == Self.utc(2026, 1, 1))
        #expect(t0.iso8601 == "2026-01-01T00:00:00Z")
        #expect(CookieTime(iso8601: "2026-01-01T08:00:00+08:00") == t0)
        #expect(CookieTime(iso8601: "2026-01-01T00:00:00.25Z")?.microsecondsSinceEpoch == t0.microsecondsSinceEpoch + 250_000)
        #expect(CookieTime(iso8601: "2026-01-01") == nil)
        #expect(CookieTime(iso8601: "2026-02-30T00:00:00Z") == nil)
        #expect(CookieTime(unixSeconds: -1).unixSeconds == -1)
        #expect(CookieTime(microsecondsSinceEpoch: -1).unixSeconds == -1)
        #expect(CookieTime.latest.adding(seconds: 1) == .latest)
        #expect(CookieTime.earliest.adding(seconds: -1) == .earliest)

        var clock = ManualCookieClock(t0)
        clock.advance(seconds: 90)
        #expect(clock.now() == t0.plus(90))
        clock.advance(microseconds: 5)
        #expect(clock.now().microsecondsSinceEpoch == t0.plus(90).microsecondsSinceEpoch + 5)

        let system = SystemCookieClock().now()
        let foundation = Int64(Date().timeIntervalSince1970)
        #expect(abs(system.unixSeconds - foundation) <= 2)
    }
}
