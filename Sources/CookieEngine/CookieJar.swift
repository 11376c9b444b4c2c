/// Storage limits of a jar (RFC 6265bis §5.7 and §6.1 leave the numbers to the user agent).
public struct CookieLimits: Sendable, Hashable {
    /// Cookies per domain (the cookie's `domain` field) before the least recently used go.
    public var maxCookiesPerDomain: Int
    /// Cookies per jar before the least recently used go.
    public var maxCookiesPerJar: Int
    /// A cookie whose name plus value exceed this many octets is ignored.
    public var maxNameValueBytes: Int
    /// An attribute whose value exceeds this many octets is ignored (the cookie is not).
    public var maxAttributeValueBytes: Int
    /// The cap on Max-Age and Expires, in seconds from the time the cookie is received.
    public var maxAgeSeconds: Int64

    public init(
        maxCookiesPerDomain: Int = 50, maxCookiesPerJar: Int = 3000, maxNameValueBytes: Int = 4096,
        maxAttributeValueBytes: Int = 1024, maxAgeSeconds: Int64 = 400 * 86_400
    ) {
        self.maxCookiesPerDomain = maxCookiesPerDomain
        self.maxCookiesPerJar = maxCookiesPerJar
        self.maxNameValueBytes = maxNameValueBytes
        self.maxAttributeValueBytes = maxAttributeValueBytes
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// 50 per domain, 3000 per jar, 4096-octet cookies, 1024-octet attributes, 400 days.
    public static let `default` = CookieLimits()
}

/// The choices a jar makes that RFC 6265bis leaves to the user agent.
public struct CookiePolicy: Sendable {
    /// The list that refuses `Domain=com`, `Domain=co.uk` and the like.
    public var publicSuffixes: PublicSuffixList
    public var limits: CookieLimits
    /// Whether a received Set-Cookie field value is first split into several set-cookie-strings
    /// when it looks comma-folded (see ``SetCookieSplitter``). On by default: WeChat's
    /// `wx.request` and some intermediaries fold. Turn it off for a transport that is known to
    /// keep Set-Cookie fields apart, where RFC 6265bis §5.6 reads each field value whole.
    public var splitsFoldedSetCookie: Bool
    /// Whether `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]` count as secure (potentially
    /// trustworthy) even over plain http, as browsers do: Secure cookies may then be set by and
    /// sent to them.
    public var treatsLoopbackAsSecure: Bool

    public init(
        publicSuffixes: PublicSuffixList = .default, limits: CookieLimits = .default,
        splitsFoldedSetCookie: Bool = true, treatsLoopbackAsSecure: Bool = true
    ) {
        self.publicSuffixes = publicSuffixes
        self.limits = limits
        self.splitsFoldedSetCookie = splitsFoldedSetCookie
        self.treatsLoopbackAsSecure = treatsLoopbackAsSecure
    }

    public static var `default`: CookiePolicy { CookiePolicy() }

    /// Whether requests to and responses from `url` are in a secure context.
    @inline(__always)
    public func isSecureContext(_ url: CookieURL) -> Bool {
        url.isSecure || (treatsLoopbackAsSecure && url.hostIsLoopback)
    }
}

/// What applying a response (or expiring cookies) changed in a jar, so a store can write only
/// that. Each key appears at most once across both lists.
public struct JarChanges: Sendable, Hashable {
    /// Cookies added or replaced, in their new state.
    public var upserted: [Cookie]
    /// Keys of cookies that left the jar: deleted by the response, expired, or evicted.
    public var removed: [CookieKey]

    public init(upserted: [Cookie] = [], removed: [CookieKey] = []) {
        self.upserted = upserted
        self.removed = removed
    }

    public var isEmpty: Bool { upserted.isEmpty && removed.isEmpty }

    @usableFromInline
    mutating func noteUpsert(_ cookie: Cookie) {
        if !removed.isEmpty,
           let i = removed.firstIndex(where: { $0.sameKey(name: cookie.name, domain: cookie.domain, path: cookie.path) }) {
            removed.remove(at: i)
        }
        if !upserted.isEmpty,
           let i = upserted.firstIndex(where: { $0.key.sameKey(name: cookie.name, domain: cookie.domain, path: cookie.path) }) {
            upserted[i] = cookie
        } else {
            upserted.append(cookie)
        }
    }

    @usableFromInline
    mutating func noteRemove(_ key: CookieKey) {
        if !upserted.isEmpty,
           let i = upserted.firstIndex(where: { $0.key.sameKey(name: key.name, domain: key.domain, path: key.path) }) {
            upserted.remove(at: i)
        }
        if !removed.contains(where: { $0.sameKey(name: key.name, domain: key.domain, path: key.path) }) {
            removed.append(key)
        }
    }

    /// Adds the changes of a later operation.
    public mutating func formUnion(_ later: JarChanges) {
        for k in later.removed { noteRemove(k) }
        for c in later.upserted { noteUpsert(c) }
    }
}

/// What became of one set-cookie-string; for diagnostics.
public enum SetCookieOutcome: Sendable, Hashable {
    /// A new cookie was stored.
    case stored(Cookie)
    /// The cookie replaced one with the same key (keeping its creation time).
    case replaced(Cookie)
    /// The cookie was already expired (Max-Age ≤ 0 or a past Expires): it deleted the stored
    /// cookie with its key, if there was one (`existed`).
    case deleted(CookieKey, existed: Bool)
    /// The set-cookie-string was ignored.
    case ignored(SetCookieRejection)
}

/// One client's cookie jar: the storage model of RFC 6265bis §5.7 and the Cookie header of
/// §5.8.3. A value type; every operation takes the current time explicitly.
///
/// Cookies are kept in Cookie-header order (longer paths first, then earlier creation), so
/// building a header is a single pass. Creation times inside a jar are strictly increasing.
public struct CookieJar: Sendable {
    public var policy: CookiePolicy
    @usableFromInline
    var storage: [Cookie]
    /// The latest creation time handed out (or restored).
    @usableFromInline
    var lastCreation: CookieTime
    /// No cookie expires before this time (a lower bound; `.latest` when none has an expiry).
    @usableFromInline
    var nextExpiry: CookieTime

    public init(policy: CookiePolicy = .default) {
        self.policy = policy
        self.storage = []
        self.lastCreation = .earliest
        self.nextExpiry = .latest
    }

    /// A jar restored from storage. A later duplicate of a key wins.
    public init(cookies: some Sequence<Cookie>, policy: CookiePolicy = .default) {
        self.init(policy: policy)
        var list = Array(cookies)
        // A restored jar rarely holds a duplicate; small jars are checked pairwise, without
        // hashing every key.
        if list.count <= 16 {
            var i = 0
            while i < list.count {
                let key = list[i].key
                if let last = list[(i + 1)...].lastIndex(where: { $0.key == key }) {
                    list[i] = list[last]
                    var j = list.count - 1
                    while j > i {
                        if list[j].key == key { list.remove(at: j) }
                        j -= 1
                    }
                }
                i += 1
            }
        } else {
            var byKey: [CookieKey: Int] = [:]
            var unique: [Cookie] = []
            unique.reserveCapacity(list.count)
            for c in list {
                if let i = byKey[c.key] {
                    unique[i] = c
                } else {
                    byKey[c.key] = unique.count
                    unique.append(c)
                }
            }
            list = unique
        }
        list.sort(by: CookieJar.headerOrder)
        storage = list
        for c in list {
            if c.creation > lastCreation { lastCreation = c.creation }
            if let e = c.expiry, e < nextExpiry { nextExpiry = e }
        }
    }

    /// The cookies in the jar, in Cookie-header order (longer paths first, then earlier creation).
    public var cookies: [Cookie] { storage }

    public var count: Int { storage.count }

    public var isEmpty: Bool { storage.isEmpty }

    @inline(__always)
    static func headerOrder(_ a: Cookie, _ b: Cookie) -> Bool {
        let la = a.path.utf8.count, lb = b.path.utf8.count
        if la != lb { return la > lb }
        return a.creation < b.creation
    }

    // MARK: Receiving Set-Cookie

    /// Applies the Set-Cookie field values of one response from `url`, in order. Each value is
    /// first split if it is comma-folded (unless the policy says otherwise). Returns what changed,
    /// including cookies that expired or were evicted meanwhile.
    @inlinable
    @discardableResult
    public mutating func receive(setCookie fieldValues: some Sequence<String>, from url: CookieURL, now: CookieTime)
        -> JarChanges
    {
        var changes = JarChanges()
        if now >= nextExpiry { purgeExpired(now: now, into: &changes) }
        for value in fieldValues { receiveField(value, from: url, now: now, into: &changes) }
        return changes
    }

    /// Applies one Set-Cookie field value (split first if folded).
    @discardableResult
    public mutating func receive(setCookie fieldValue: String, from url: CookieURL, now: CookieTime) -> JarChanges {
        var changes = JarChanges()
        if now >= nextExpiry { purgeExpired(now: now, into: &changes) }
        receiveField(fieldValue, from: url, now: now, into: &changes)
        return changes
    }

    /// Like `receive(setCookie:from:now:)`, but reports what became
    /// of each set-cookie-string (after splitting), for diagnostics.
    public mutating func receiveExplained(
        setCookie fieldValues: some Sequence<String>, from url: CookieURL, now: CookieTime
    ) -> (changes: JarChanges, outcomes: [(setCookie: String, outcome: SetCookieOutcome)]) {
        var changes = JarChanges()
        var outcomes: [(setCookie: String, outcome: SetCookieOutcome)] = []
        if now >= nextExpiry { purgeExpired(now: now, into: &changes) }
        let splitting = policy.splitsFoldedSetCookie
        for value in fieldValues {
            fastUTF8(value) { buf in
                CookieJar.forEachSetCookieString(buf, splitting: splitting) { r in
                    let text = buf.string(r)
                    store(buf, r, from: url, now: now, into: &changes) { outcomes.append((text, $0)) }
                }
            }
        }
        return (changes, outcomes)
    }

    @usableFromInline
    mutating func receiveField(_ value: String, from url: CookieURL, now: CookieTime, into changes: inout JarChanges) {
        let splitting = policy.splitsFoldedSetCookie
        fastUTF8(value) { buf in
            CookieJar.forEachSetCookieString(buf, splitting: splitting) { r in
                store(buf, r, from: url, now: now, into: &changes, report: nil)
            }
        }
    }

    /// Static, so that callers mutating the jar inside `body` do not force a copy of it.
    @inline(__always)
    static func forEachSetCookieString(_ buf: Bytes, splitting: Bool, _ body: (Range<Int>) -> Void) {
        if splitting {
            SetCookieSplitter.forEachPart(buf, body)
        } else {
            body(0..<buf.count)
        }
    }

    /// The storage model (§5.7) for one set-cookie-string. `report`, when given, hears what
    /// became of it.
    mutating func store(
        _ buf: Bytes, _ range: Range<Int>, from url: CookieURL, now: CookieTime, into changes: inout JarChanges,
        report: ((SetCookieOutcome) -> Void)?
    ) {
        let limits = policy.limits
        let f: SetCookieFields
        switch SetCookieParser.parse(buf, range.lowerBound, range.upperBound, limits: limits) {
        case .success(let fields): f = fields
        case .failure(let why):
            report?(.ignored(why))
            return
        }
        func ignore(_ why: SetCookieRejection) { report?(.ignored(why)) }
        if f.name.isEmpty,
           buf.hasPrefixIgnoringCase(f.value, "__secure-") || buf.hasPrefixIgnoringCase(f.value, "__host-") {
            return ignore(.namelessWithPrefix)
        }

        // Expiry: the last Max-Age wins over any Expires; both capped.
        var expiry: CookieTime?
        if let maxAge = f.maxAge {
            expiry = maxAge <= 0 ? .earliest : now.adding(seconds: min(maxAge, limits.maxAgeSeconds))
        } else if let expires = f.expires {
            expiry = min(expires, now.adding(seconds: limits.maxAgeSeconds))
        }

        // Domain.
        var hostOnly = true
        var domain = url.host
        if f.hasDomain {
            var d = f.domain
            if !d.isEmpty, buf[d.lowerBound] == ASCII.dot { d = (d.lowerBound + 1)..<d.upperBound }
            if !d.isEmpty {
                for i in d where buf[i] >= 0x80 { return ignore(.nonASCIIDomain) }
                let attr = buf.lowercasedString(d)
                if url.hostIsIPAddress {
                    // An IP host takes only its own address, and the cookie stays host-only.
                    guard utf8Equal(attr, url.host) else { return ignore(.ipDomainMismatch) }
                } else if policy.publicSuffixes.isPublicSuffix(attr) {
                    // A public suffix is refused, unless it is the host itself: then host-only.
                    guard utf8Equal(attr, url.host) else { return ignore(.publicSuffixDomain) }
                } else {
                    guard Match.domain(url.host, attr, hostIsIP: false) else { return ignore(.domainMismatch) }
                    hostOnly = false
                    domain = attr
                }
            }
        }

        // Path.
        var path: String
        if f.hasPath, !f.path.isEmpty, buf[f.path.lowerBound] == ASCII.slash {
            path = buf.string(f.path)
        } else {
            path = url.defaultPath
        }

        let secureContext = policy.isSecureContext(url)
        if f.secure && !secureContext { return ignore(.secureFromInsecureOrigin) }
        if f.sameSite == .noRestriction && !f.secure { return ignore(.sameSiteNoneWithoutSecure) }
        if buf.hasPrefixIgnoringCase(f.name, "__secure-"), !f.secure { return ignore(.securePrefix) }
        if buf.hasPrefixIgnoringCase(f.name, "__host-"),
           !(f.secure && hostOnly && f.hasPath && path.utf8.count == 1 && path.utf8.first == ASCII.slash) {
            return ignore(.hostPrefix)
        }

        // One pass over the jar, borrowing its strings in place: the cookie with the same key,
        // and whether a Secure cookie must be left alone ("Leave Secure cookies alone": from an
        // insecure origin, a non-secure cookie may neither overwrite nor shadow a Secure cookie
        // of the same name whose domain matches either way and on whose path it would be sent).
        let nameBytes = UnsafeBufferPointer(rebasing: buf[f.name])
        let guardSecure = !f.secure && !secureContext
        var existing = -1
        var shadowsSecure = false
        domain.withUTF8 { d in
            path.withUTF8 { p in
                storage.withUnsafeMutableBufferPointer { cookies in
                    for i in 0..<cookies.count {
                        guard cookies[i].name.withUTF8({ Match.equal($0, nameBytes) }) else { continue }
                        if guardSecure && cookies[i].secure {
                            let hit = cookies[i].domain.withUTF8 { cd in
                                Match.domain(cd, d, hostIsIP: false) || Match.domain(d, cd, hostIsIP: false)
                            } && cookies[i].path.withUTF8 { cp in Match.path(p, cp) }
                            if hit {
                                shadowsSecure = true
                                return
                            }
                        }
                        if existing < 0, cookies[i].domain.withUTF8({ Match.equal($0, d) }),
                           cookies[i].path.withUTF8({ Match.equal($0, p) }) {
                            existing = i
                            if !guardSecure { return }
                        }
                    }
                }
            }
        }
        if shadowsSecure { return ignore(.secureCookieShadowing) }

        let name = buf.string(f.name)
        if let e = expiry, e <= now {
            let key = CookieKey(name: name, domain: domain, path: path)
            if existing >= 0 {
                storage.remove(at: existing)
                changes.noteRemove(key)
            }
            report?(.deleted(key, existed: existing >= 0))
            return
        }

        if let e = expiry, e < nextExpiry { nextExpiry = e }
        if existing >= 0 {
            if storage[existing].sameState(value: UnsafeBufferPointer(rebasing: buf[f.value]), expiry: expiry,
                                           hostOnly: hostOnly, secure: f.secure, httpOnly: f.httpOnly,
                                           sameSite: f.sameSite) {
                // The same cookie again (backends often resend unchanged ones): only its last
                // access moves, and there is nothing new for a store to write.
                storage[existing].lastAccess = now
                report?(.replaced(storage[existing]))
                return
            }
            let cookie = Cookie(
                name: name, value: buf.string(f.value), domain: domain, path: path, expiry: expiry,
                creation: storage[existing].creation, lastAccess: now, hostOnly: hostOnly, secure: f.secure,
                httpOnly: f.httpOnly, sameSite: f.sameSite)
            storage[existing] = cookie
            changes.noteUpsert(cookie)
            report?(.replaced(cookie))
            return
        }

        let cookie = Cookie(
            name: name, value: buf.string(f.value), domain: domain, path: path, expiry: expiry,
            creation: nextCreation(now), lastAccess: now, hostOnly: hostOnly, secure: f.secure,
            httpOnly: f.httpOnly, sameSite: f.sameSite)
        // Newest creation: after every cookie whose path is at least as long.
        let len = path.utf8.count
        var at = storage.count
        while at > 0, storage[at - 1].path.utf8.count < len { at -= 1 }
        storage.insert(cookie, at: at)
        changes.noteUpsert(cookie)
        report?(.stored(cookie))
        enforceLimits(domain: domain, now: now, into: &changes)
    }

    @inline(__always)
    mutating func nextCreation(_ now: CookieTime) -> CookieTime {
        let next = lastCreation.adding(microseconds: 1)
        let c = now > next ? now : next
        lastCreation = c
        return c
    }

    // MARK: Expiry and eviction

    /// Removes the cookies expired at `now`; returns their keys.
    @discardableResult
    public mutating func removeExpired(now: CookieTime) -> [CookieKey] {
        var changes = JarChanges()
        purgeExpired(now: now, into: &changes)
        return changes.removed
    }

    @usableFromInline
    mutating func purgeExpired(now: CookieTime, into changes: inout JarChanges) {
        var next = CookieTime.latest
        var w = 0
        for r in storage.indices {
            if let e = storage[r].expiry {
                if e <= now {
                    changes.noteRemove(storage[r].key)
                    continue
                }
                if e < next { next = e }
            }
            if w != r { storage.swapAt(w, r) }
            w += 1
        }
        if w < storage.count { storage.removeSubrange(w...) }
        nextExpiry = next
    }

    /// Evicts expired cookies, then the least recently used beyond the per-domain and per-jar
    /// limits.
    mutating func enforceLimits(domain: String, now: CookieTime, into changes: inout JarChanges) {
        let limits = policy.limits
        func domainCount() -> Int {
            var n = 0
            for c in storage where utf8Equal(c.domain, domain) { n += 1 }
            return n
        }
        let overJar = storage.count > limits.maxCookiesPerJar
        let overDomain = storage.count > limits.maxCookiesPerDomain && domainCount() > limits.maxCookiesPerDomain
        guard overJar || overDomain else { return }
        purgeExpired(now: now, into: &changes)
        // §5.7 priority: expired cookies; then, of a domain over its limit, non-Secure cookies
        // before Secure ones; then any cookie; least recently used first within each.
        while domainCount() > limits.maxCookiesPerDomain {
            if !evictLeastRecentlyUsed(into: &changes, where: { !$0.secure && utf8Equal($0.domain, domain) }) {
                evictLeastRecentlyUsed(into: &changes) { utf8Equal($0.domain, domain) }
            }
        }
        while storage.count > limits.maxCookiesPerJar {
            evictLeastRecentlyUsed(into: &changes) { _ in true }
        }
    }

    /// Evicts the eligible cookie with the earliest last access (then the earliest creation);
    /// false when none is eligible.
    @discardableResult
    mutating func evictLeastRecentlyUsed(into changes: inout JarChanges, where eligible: (Cookie) -> Bool) -> Bool {
        var victim = -1
        for i in storage.indices where eligible(storage[i]) {
            if victim < 0 { victim = i; continue }
            let a = storage[i], v = storage[victim]
            if a.lastAccess < v.lastAccess || (a.lastAccess == v.lastAccess && a.creation < v.creation) { victim = i }
        }
        guard victim >= 0 else { return false }
        changes.noteRemove(storage[victim].key)
        storage.remove(at: victim)
        return true
    }

    // MARK: Sending

    /// The Cookie header value for a request to `url` (RFC 6265bis §5.8.3), or nil when no cookie
    /// applies. Drops expired cookies and updates the last-access time of the cookies sent.
    public mutating func cookieHeader(for url: CookieURL, now: CookieTime) -> String? {
        if now >= nextExpiry {
            var changes = JarChanges()
            purgeExpired(now: now, into: &changes)
        }
        return buildHeader(for: url, now: now)
    }

    /// Like ``cookieHeader(for:now:)``, also appending the keys of the cookies that expired to
    /// `removed` (so a store can drop them).
    public mutating func cookieHeader(for url: CookieURL, now: CookieTime, removed: inout [CookieKey]) -> String? {
        if now >= nextExpiry {
            var changes = JarChanges()
            purgeExpired(now: now, into: &changes)
            removed.append(contentsOf: changes.removed)
        }
        return buildHeader(for: url, now: now)
    }

    /// The cookies that would be sent to `url` at `now`, in header order, without touching the jar.
    public func cookies(for url: CookieURL, now: CookieTime) -> [Cookie] {
        let secureContext = policy.isSecureContext(url)
        return storage.filter { !$0.isExpired(at: now) && $0.applies(to: url, secureContext: secureContext) }
    }

    mutating func buildHeader(for url: CookieURL, now: CookieTime) -> String? {
        let n = storage.count
        if n == 0 { return nil }
        let secureContext = policy.isSecureContext(url)
        let hostIsIP = url.hostIsIPAddress
        var host = url.host, path = url.path
        // The cookies' strings are borrowed in place (`withUTF8` through the mutable buffer), so
        // the pass does no reference counting.
        return host.withUTF8 { h in
            path.withUTF8 { p in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { picked -> String? in
                    storage.withUnsafeMutableBufferPointer { cookies -> String? in
                        var k = 0
                        var length = 0
                        for i in 0..<n {
                            if cookies[i].secure && !secureContext { continue }
                            let hostOnly = cookies[i].hostOnly
                            let domainOK = cookies[i].domain.withUTF8 { d in
                                hostOnly ? Match.equal(d, h) : Match.domain(h, d, hostIsIP: hostIsIP)
                            }
                            if !domainOK { continue }
                            if !cookies[i].path.withUTF8({ c in Match.path(p, c) }) { continue }
                            cookies[i].lastAccess = now
                            let nl = cookies[i].name.withUTF8 { $0.count }
                            let vl = cookies[i].value.withUTF8 { $0.count }
                            length += (nl == 0 ? 0 : nl + 1) + vl + (k == 0 ? 0 : 2)
                            picked[k] = i
                            k += 1
                        }
                        if k == 0 { return nil }
                        return String(unsafeUninitializedCapacity: length) { out in
                            var o = 0
                            for j in 0..<k {
                                if j > 0 {
                                    out[o] = ASCII.semicolon
                                    out[o + 1] = ASCII.space
                                    o += 2
                                }
                                let c = picked[j]
                                o += cookies[c].name.withUTF8 { src in
                                    guard src.count > 0 else { return 0 }
                                    (out.baseAddress! + o).update(from: src.baseAddress!, count: src.count)
                                    out[o + src.count] = ASCII.equals
                                    return src.count + 1
                                }
                                o += cookies[c].value.withUTF8 { src in
                                    if src.count > 0 { (out.baseAddress! + o).update(from: src.baseAddress!, count: src.count) }
                                    return src.count
                                }
                            }
                            return o
                        }
                    }
                }
            }
        }
    }

    // MARK: Direct manipulation

    /// Removes the cookie with `key`, returning it.
    @discardableResult
    public mutating func remove(_ key: CookieKey) -> Cookie? {
        guard let i = storage.firstIndex(where: { $0.key.sameKey(name: key.name, domain: key.domain, path: key.path) })
        else { return nil }
        return storage.remove(at: i)
    }

    /// Empties the jar; returns the keys removed.
    @discardableResult
    public mutating func removeAll() -> [CookieKey] {
        let keys = storage.map(\.key)
        storage.removeAll()
        nextExpiry = .latest
        return keys
    }
}

extension Cookie {
    /// Whether a replacement with these fields would leave everything but the last access as it is
    /// (name, domain and path are the key, equal already).
    @inline(__always)
    func sameState(value: UnsafeBufferPointer<UInt8>, expiry: CookieTime?, hostOnly: Bool, secure: Bool,
                   httpOnly: Bool, sameSite: SameSite) -> Bool {
        self.expiry == expiry && self.hostOnly == hostOnly && self.secure == secure && self.httpOnly == httpOnly
            && self.sameSite == sameSite && self.value.utf8.elementsEqual(value)
    }
}
