/// JSON string literals per RFC 8259: quote, backslash and control characters escaped, DEL and
/// the two line separators JavaScript treats as line ends written as `\u` escapes, other
/// non-ASCII text as UTF-8. One escaper for the JSON log lines and the command line's output.
public enum JSONString {
    /// `s` as a quoted JSON string.
    public static func quoted(_ s: String) -> String {
        var out = ""
        append(s, to: &out)
        return out
    }

    /// Appends `s` as a quoted JSON string.
    public static func append(_ s: String, to out: inout String) {
        out.reserveCapacity(out.utf8.count + s.utf8.count + 2)
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
