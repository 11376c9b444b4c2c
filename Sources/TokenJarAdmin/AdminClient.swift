import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A client of the admin listener's sessions API, as `tokenjar sessions` uses it.
public struct AdminClient: Sendable {
    /// An answer of the API: its status and its JSON body.
    public struct Answer: Sendable {
        public var status: Int
        public var body: String

        public var isSuccess: Bool { (200..<300).contains(status) }
    }

    public let baseURL: String
    let token: String?
    let httpClient: HTTPClient
    let timeout: TimeAmount

    /// `baseURL` is the admin listener, such as `http://127.0.0.1:9090`.
    public init(baseURL: String, token: String?, httpClient: HTTPClient = .shared, timeout: TimeAmount = .seconds(10)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.httpClient = httpClient
        self.timeout = timeout
    }

    /// `GET /sessions`: counts of sessions, logged-in sessions and cookies.
    public func counts() async throws -> Answer { try await call(.GET, "/sessions") }

    /// Sessions whose token hash starts with `prefix` (at least 6 hex digits).
    public func find(prefix: String, limit: Int? = nil) async throws -> Answer {
        try await call(.GET, "/sessions?prefix=\(Self.encoded(prefix))" + (limit.map { "&limit=\($0)" } ?? ""))
    }

    /// Sessions logged in as `openID`.
    public func find(openID: String, limit: Int? = nil) async throws -> Answer {
        try await call(.GET, "/sessions?openid=\(Self.encoded(openID))" + (limit.map { "&limit=\($0)" } ?? ""))
    }

    /// The one session whose hash starts with `prefix`, with its jar; values only with `reveal`.
    public func show(prefix: String, reveal: Bool = false) async throws -> Answer {
        try await call(.GET, "/sessions/\(Self.encoded(prefix))" + (reveal ? "?reveal=true" : ""))
    }

    /// Revokes the one session whose hash starts with `prefix`.
    public func revoke(prefix: String) async throws -> Answer {
        try await call(.DELETE, "/sessions/\(Self.encoded(prefix))")
    }

    /// Revokes every session logged in as `openID`.
    public func revoke(openID: String) async throws -> Answer {
        try await call(.DELETE, "/sessions?openid=\(Self.encoded(openID))")
    }

    private func call(_ method: HTTPMethod, _ pathAndQuery: String) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + pathAndQuery)
        request.method = method
        if let token, !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await httpClient.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: body))
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func encoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
