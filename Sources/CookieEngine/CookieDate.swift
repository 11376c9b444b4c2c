/// The cookie-date algorithm of RFC 6265bis §5.1.1.
///
/// The algorithm is deliberately lenient: it splits the string into date-tokens at delimiters and
/// picks the first token that looks like a time, a day of month, a month and a year, in that
/// order of preference for each token; everything else (weekday names, "GMT", stray words) is
/// ignored. Two-digit years 70–99 mean 19xx and 00–69 mean 20xx. A result with a missing part, a
/// day outside 1–31 (or past the month's end), an hour over 23, a minute or second over 59, or
/// a year before 1601 is a failure.
public enum CookieDate {
    /// Parses a cookie-date; nil when the algorithm fails.
    public static func parse(_ s: some StringProtocol) -> CookieTime? {
        withUTF8Bytes(of: s) { parse($0, 0, $0.count) }
    }

    /// A date in the preferred IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`).
    public static func format(_ t: CookieTime) -> String {
        let secs = t.unixSeconds
        let days = CookieTime.floorDiv(secs, 86_400)
        let sod = secs - days * 86_400
        let (y, m, d) = CivilDate.fromDays(days)
        let weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday
        let wd = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][weekday]
        let mn = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1]
        func p2(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var year = String(y)
        while year.count < 4 { year = "0" + year }
        return "\(wd), \(p2(Int64(d))) \(mn) \(year) \(p2(sod / 3600)):\(p2(sod / 60 % 60)):\(p2(sod % 60)) GMT"
    }

    /// delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E
    @inline(__always)
    static func isDelimiter(_ b: UInt8) -> Bool {
        b == 0x09 || (b >= 0x20 && b <= 0x2F) || (b >= 0x3B && b <= 0x40) || (b >= 0x5B && b <= 0x60)
            || (b >= 0x7B && b <= 0x7E)
    }

    /// The algorithm over the bytes `lo..<hi` of `buf`.
    static func parse(_ buf: Bytes, _ lo: Int, _ hi: Int) -> CookieTime? {
        var hour = -1, minute = -1, second = -1
        var day = -1, month = -1, year = -1
        var i = lo
        while i < hi {
            while i < hi, isDelimiter(buf[i]) { i += 1 }
            if i >= hi { break }
            let start = i
            while i < hi, !isDelimiter(buf[i]) { i += 1 }
            let end = i
            // 1. time
            if hour < 0, let (h, m, s) = matchTime(buf, start, end) {
                hour = h; minute = m; second = s
                continue
            }
            // 2. day-of-month = 1*2DIGIT [ non-digit *OCTET ]
            if day < 0, let v = matchDigits(buf, start, end, min: 1, max: 2) {
                day = v
                continue
            }
            // 3. month = ( "jan" / ... / "dec" ) *OCTET
            if month < 0, let m = matchMonth(buf, start, end) {
                month = m
                continue
            }
            // 4. year = 2*4DIGIT [ non-digit *OCTET ]
            if year < 0, let v = matchDigits(buf, start, end, min: 2, max: 4) {
                year = v
                continue
            }
        }
        if year >= 70 && year <= 99 { year += 1900 } else if year >= 0 && year <= 69 { year += 2000 }
        guard hour >= 0, day >= 0, month >= 0, year >= 0 else { return nil }
        guard day >= 1, day <= 31, year >= 1601, hour <= 23, minute <= 59, second <= 59 else { return nil }
        guard day <= CivilDate.daysInMonth(Int64(year), month) else { return nil }
        let days = CivilDate.days(Int64(year), month, day)
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return CookieTime(microsecondsSinceEpoch: secs * 1_000_000)
    }

    /// `min...max` DIGITs followed by the token's end or a non-digit.
    @inline(__always)
    static func matchDigits(_ buf: Bytes, _ start: Int, _ end: Int, min: Int, max: Int) -> Int? {
        var i = start
        var v = 0
        while i < end, i - start < max, ASCII.isDigit(buf[i]) {
            v = v * 10 + Int(buf[i] &- 0x30)
            i += 1
        }
        let n = i - start
        guard n >= min else { return nil }
        if i < end, ASCII.isDigit(buf[i]) { return nil }
        return v
    }

    /// hms-time = time-field ":" time-field ":" time-field; time-field = 1*2DIGIT;
    /// time = hms-time [ non-digit *OCTET ]
    @inline(__always)
    static func matchTime(_ buf: Bytes, _ start: Int, _ end: Int) -> (Int, Int, Int)? {
        var i = start
        var fields = (0, 0, 0)
        for f in 0..<3 {
            let fs = i
            var v = 0
            while i < end, i - fs < 2, ASCII.isDigit(buf[i]) {
                v = v * 10 + Int(buf[i] &- 0x30)
                i += 1
            }
            if i == fs { return nil }
            switch f {
            case 0: fields.0 = v
            case 1: fields.1 = v
            default: fields.2 = v
            }
            if f < 2 {
                guard i < end, buf[i] == ASCII.colon else { return nil }
                i += 1
            } else if i < end, ASCII.isDigit(buf[i]) {
                return nil
            }
        }
        return fields
    }

    @inline(__always)
    static func matchMonth(_ buf: Bytes, _ start: Int, _ end: Int) -> Int? {
        guard end - start >= 3 else { return nil }
        let a = ASCII.lower(buf[start]), b = ASCII.lower(buf[start + 1]), c = ASCII.lower(buf[start + 2])
        let key = UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)
        switch key {
        case 0x6A_61_6E: return 1  // jan
        case 0x66_65_62: return 2  // feb
        case 0x6D_61_72: return 3  // mar
        case 0x61_70_72: return 4  // apr
        case 0x6D_61_79: return 5  // may
        case 0x6A_75_6E: return 6  // jun
        case 0x6A_75_6C: return 7  // jul
        case 0x61_75_67: return 8  // aug
        case 0x73_65_70: return 9  // sep
        case 0x6F_63_74: return 10  // oct
        case 0x6E_6F_76: return 11  // nov
        case 0x64_65_63: return 12  // dec
        default: return nil
        }
    }
}
