/// Splits a folded Set-Cookie field value (several set-cookie-strings joined by commas, as some
/// intermediaries and WeChat's `wx.request` deliver them) into its set-cookie-strings.
///
/// Commas are everywhere in cookies (`Expires=Wed, 21 Oct 2026 …`, paths, extension attributes,
/// values), so a comma separates two cookies only when what follows it looks like the start of
/// a cookie-pair:
///
/// - after the comma and optional whitespace comes a token (RFC 9110 tchar+), optional
///   whitespace and "=" (`, b=2` splits; `, 21 Oct` and `,"y":2` do not); or
/// - nothing but whitespace and further commas follows up to the end (empty list elements).
///
/// A double quote protects the commas up to the matching quote only when that quote comes
/// before the next ";" (or the end); an unbalanced quote is an ordinary character, so it cannot
/// swallow the rest of the field. Elements are trimmed of whitespace and empty ones dropped.
public enum SetCookieSplitter {
    /// The set-cookie-strings in a field value, in order, trimmed, without empty elements.
    public static func split(_ fieldValue: String) -> [String] {
        fastUTF8(fieldValue) { buf in
            var out: [String] = []
            forEachPart(buf) { out.append(buf.string($0)) }
            return out
        }
    }

    /// Whether the field value holds more than one set-cookie-string (or an empty element).
    public static func isFolded(_ fieldValue: String) -> Bool {
        fastUTF8(fieldValue) { buf in nextSeparator(buf, 0, buf.count) < buf.count }
    }

    /// Calls `body` with the trimmed, non-empty byte range of each part of `buf`.
    @inline(__always)
    static func forEachPart(_ buf: Bytes, _ body: (Range<Int>) -> Void) {
        let n = buf.count
        var start = 0
        while start <= n {
            let sep = nextSeparator(buf, start, n)
            let r = buf.trimmedWSP(start, sep)
            if !r.isEmpty { body(r) }
            start = sep + 1
        }
    }

    /// The index of the next separating comma at or after `from`, or `n`.
    @inline(__always)
    static func nextSeparator(_ buf: Bytes, _ from: Int, _ n: Int) -> Int {
        var i = from
        while i < n {
            let c = buf[i]
            if c == ASCII.comma {
                if isSeparator(buf, i, n) { return i }
            } else if c == ASCII.quote {
                // Protect up to a closing quote that comes before the next ';' or the end.
                var j = i + 1
                while j < n, buf[j] != ASCII.quote, buf[j] != ASCII.semicolon { j += 1 }
                if j < n, buf[j] == ASCII.quote { i = j }
            }
            i += 1
        }
        return n
    }

    /// Whether the comma at `comma` separates two set-cookie-strings.
    @inline(__always)
    static func isSeparator(_ buf: Bytes, _ comma: Int, _ n: Int) -> Bool {
        var j = comma + 1
        // Skip whitespace and further commas (empty list elements).
        while j < n, ASCII.isWSP(buf[j]) || buf[j] == ASCII.comma { j += 1 }
        if j == n { return true }
        let tokenStart = j
        while j < n, ASCII.isTchar(buf[j]) { j += 1 }
        if j == tokenStart { return false }
        while j < n, ASCII.isWSP(buf[j]) { j += 1 }
        return j < n && buf[j] == ASCII.equals
    }
}

/// Parses a Cookie request header as a client sent it.
public enum CookieHeaderParser {
    /// The cookie-pairs of a Cookie header value, in order. Pairs are separated by ";" (with or
    /// without a following space); a comma-joined form such as `a=1, b=2` is also understood,
    /// using the same rule as ``SetCookieSplitter`` (a comma followed by `token=`). Names and
    /// values are trimmed of whitespace; a pair without "=" is a nameless cookie (empty name, the
    /// text as value, as RFC 6265bis reads Set-Cookie); empty pairs are dropped.
    public static func pairs(in headerValue: String) -> [(name: String, value: String)] {
        fastUTF8(headerValue) { buf in
            var out: [(name: String, value: String)] = []
            let n = buf.count
            var start = 0
            while start <= n {
                var end = start
                while end < n {
                    let c = buf[end]
                    if c == ASCII.semicolon { break }
                    if c == ASCII.comma, SetCookieSplitter.isSeparator(buf, end, n) { break }
                    end += 1
                }
                let r = buf.trimmedWSP(start, end)
                if !r.isEmpty {
                    let eq = buf.firstIndex(of: ASCII.equals, r.lowerBound, r.upperBound)
                    if eq == r.upperBound {
                        out.append((name: "", value: buf.string(r)))
                    } else {
                        let nr = buf.trimmedWSP(r.lowerBound, eq)
                        let vr = buf.trimmedWSP(eq + 1, r.upperBound)
                        if !(nr.isEmpty && vr.isEmpty) {
                            out.append((name: buf.string(nr), value: buf.string(vr)))
                        }
                    }
                }
                start = end + 1
            }
            return out
        }
    }

    /// The pairs re-serialized in the canonical `name=value; name=value` form.
    public static func normalize(_ headerValue: String) -> String {
        pairs(in: headerValue).map { $0.name.isEmpty ? $0.value : $0.name + "=" + $0.value }
            .joined(separator: "; ")
    }
}
