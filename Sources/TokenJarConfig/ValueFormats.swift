/// The textual forms of durations and sizes used in the configuration.
///
/// - Durations: `250ms`, `30s`, `5m`, `2h`, `7d`, or a whole number of seconds (`30`).
/// - Sizes: a number of bytes (`512`), or `KiB`, `MiB`, `GiB` (powers of 1024): `64KiB`, `10MiB`.
public enum ConfigFormats {
    private static let durationUnits: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
    ]

    private static let sizeUnits: [(suffix: String, bytes: Int)] = [
        ("b", 1),
        ("kib", 1 << 10),
        ("mib", 1 << 20),
        ("gib", 1 << 30),
    ]

    static let durationHint = "a duration such as 250ms, 30s, 5m, 2h, 7d or a whole number of seconds"
    static let sizeHint = "a size such as 512, 64KiB, 10MiB or 1GiB"

    /// Parses `250ms`, `30s`, `5m`, `2h`, `7d` or `30` (seconds).
    public static func parseDuration(_ text: String) throws(ConfigValueError) -> Duration {
        let trimmed = text.trimmingSpaces()
        let (digits, unit) = splitNumber(trimmed)
        guard !digits.isEmpty else {
            if trimmed.hasPrefix("-") { throw ConfigValueError("a duration cannot be negative") }
            throw ConfigValueError("expected \(durationHint)")
        }
        guard let number = Int64(digits) else {
            throw ConfigValueError("duration is too large")
        }
        let lowered = unit.trimmingSpaces().lowercased()
        if lowered.hasPrefix(".") || lowered.hasPrefix(",") {
            throw ConfigValueError("fractions are not supported; use a smaller unit, as in 90m or 1500ms")
        }
        let multiplier: Int64
        if lowered.isEmpty {
            multiplier = 1000
        } else if let match = durationUnits.first(where: { $0.suffix == lowered }) {
            multiplier = match.milliseconds
        } else {
            throw ConfigValueError("expected \(durationHint) (unit ms, s, m, h or d)")
        }
        let (milliseconds, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw ConfigValueError("duration is too large") }
        return .milliseconds(milliseconds)
    }

    /// The shortest exact form: `7d`, `10s`, `250ms`.
    public static func formatDuration(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        guard milliseconds != 0 else { return "0s" }
        for unit in durationUnits.reversed() where milliseconds % unit.milliseconds == 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.suffix)"
        }
        return "\(milliseconds)ms"
    }

    /// Parses `512`, `64KiB`, `10MiB`, `1GiB` (also `512B`), into bytes.
    public static func parseSize(_ text: String) throws(ConfigValueError) -> Int {
        let trimmed = text.trimmingSpaces()
        let (digits, rawUnit) = splitNumber(trimmed)
        guard !digits.isEmpty else {
            if trimmed.hasPrefix("-") { throw ConfigValueError("a size cannot be negative") }
            throw ConfigValueError("expected \(sizeHint)")
        }
        guard let number = Int(digits) else { throw ConfigValueError("size is too large") }
        let unit = rawUnit.trimmingSpaces().lowercased()
        if unit.hasPrefix(".") || unit.hasPrefix(",") {
            throw ConfigValueError("fractions are not supported; use a smaller unit, as in 1536KiB")
        }
        let multiplier: Int
        if unit.isEmpty {
            multiplier = 1
        } else if let match = sizeUnits.first(where: { $0.suffix == unit }) {
            multiplier = match.bytes
        } else if ["k", "kb", "m", "mb", "g", "gb"].contains(unit) {
            throw ConfigValueError("ambiguous unit '\(rawUnit)'; use KiB, MiB or GiB (powers of 1024)")
        } else {
            throw ConfigValueError("expected \(sizeHint) (unit B, KiB, MiB or GiB)")
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw ConfigValueError("size is too large") }
        return bytes
    }

    /// The shortest exact form: `32KiB`, `10MiB`, `512`.
    public static func formatSize(_ bytes: Int) -> String {
        guard bytes != 0 else { return "0" }
        for unit in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes % unit.1 == 0 {
            return "\(bytes / unit.1)\(unit.0)"
        }
        return "\(bytes)"
    }

    /// Splits `"30s"` into `("30", "s")`; underscores between digits (`100_000`) are allowed.
    private static func splitNumber(_ text: String) -> (digits: String, unit: String) {
        var digits = ""
        var index = text.startIndex
        while index < text.endIndex, text[index].isASCIIDigit || (text[index] == "_" && !digits.isEmpty) {
            if text[index] != "_" { digits.append(text[index]) }
            index = text.index(after: index)
        }
        return (digits, String(text[index...]))
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
