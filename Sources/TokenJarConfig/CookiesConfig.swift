/// Limits of the cookie jars and the public-suffix list that decides which domains may be set.
public struct CookiesConfig: Sendable, Equatable {
    /// A public-suffix list file; `""` means Debian's file when present, else the bundled copy.
    public var publicSuffixList: String
    public var maxPerJar: Int
    public var maxPerDomain: Int
    /// Largest cookie (name, value and attributes) accepted from a backend.
    public var maxCookieBytes: Int

    public init(
        publicSuffixList: String = "",
        maxPerJar: Int = 3000,
        maxPerDomain: Int = 50,
        maxCookieBytes: Int = 4096
    ) {
        self.publicSuffixList = publicSuffixList
        self.maxPerJar = maxPerJar
        self.maxPerDomain = maxPerDomain
        self.maxCookieBytes = maxCookieBytes
    }
}

extension CookiesConfig {
    static let configKeys: [ConfigKey<CookiesConfig>] = [
        .key("public_suffix_list", .string, \.publicSuffixList,
             doc: "Public-suffix list file; `\"\"` uses Debian's `/usr/share/publicsuffix` file when present, "
                + "else the bundled copy."),
        .key("max_per_jar", .integer(1...Int.max), \.maxPerJar, doc: "Most cookies kept for one client token."),
        .key("max_per_domain", .integer(1...Int.max), \.maxPerDomain,
             doc: "Most cookies kept for one domain in one jar; at most `max_per_jar`."),
        .key("max_cookie_bytes", .size(), \.maxCookieBytes,
             doc: "Largest cookie accepted from a backend (name, value and attributes)."),
    ]
}
