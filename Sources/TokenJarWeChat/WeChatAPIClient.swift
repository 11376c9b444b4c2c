import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The calls to the WeChat API the endpoints make, over AsyncHTTPClient.
///
/// Redirects are never followed, every call has the configured timeout, and no logger or tracer
/// is handed to the HTTP client: the secret travels in the query of `jscode2session`, so a URL
/// must never reach a log line, a span or an error message. Transport errors are mapped to
/// `wx_unreachable` without their description for the same reason.
final class WeChatAPIClient: Sendable {
    let settings: WeChatSettings
    private let http: HTTPClient

    /// Largest answer read from the API.
    private static let maxReplyBytes = 64 * 1024

    init(settings: WeChatSettings) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: settings.timeout, read: settings.timeout))
        configuration.tracing.tracer = nil
        self.settings = settings
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the client's connections. No call may follow.
    func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: Calls

    /// `GET /sns/jscode2session`: a login code for the user's openid, unionid and session key.
    func code2Session(code: String) async throws(WeChatError) -> Code2SessionReply {
        let query = Self.query([
            ("appid", settings.appID), ("secret", settings.secret), ("js_code", code),
            ("grant_type", "authorization_code"),
        ])
        var request = HTTPClientRequest(url: settings.apiBase + "/sns/jscode2session?" + query)
        request.method = .GET
        let reply: Code2SessionReply = try await retryingOnceWhenBusy { () async throws(WeChatError) in
            try await self.send(request)
        }
        return reply
    }

    /// `POST /cgi-bin/stable_token` in its normal mode: the app's current `access_token`. Several
    /// callers (and instances) asking at once all receive the same valid token.
    func stableToken() async throws(WeChatError) -> StableTokenReply {
        let body = StableTokenRequest(grantType: "client_credential", appID: settings.appID, secret: settings.secret)
        let request = try Self.jsonPost(settings.apiBase + "/cgi-bin/stable_token", body)
        let reply: StableTokenReply = try await retryingOnceWhenBusy { () async throws(WeChatError) in
            try await self.send(request)
        }
        return reply
    }

    /// `POST /wxa/business/getuserphonenumber`: the phone number a `getPhoneNumber` code stands for.
    func phoneNumber(code: String, accessToken: String) async throws(WeChatError) -> PhoneNumberReply {
        let url = settings.apiBase + "/wxa/business/getuserphonenumber?" + Self.query([("access_token", accessToken)])
        let request = try Self.jsonPost(url, PhoneNumberRequest(code: code))
        let reply: PhoneNumberReply = try await retryingOnceWhenBusy { () async throws(WeChatError) in
            try await self.send(request)
        }
        return reply
    }

    // MARK: Transport

    /// `-1` (system busy) earns exactly one more try after a short pause; a second `-1` is final.
    private func retryingOnceWhenBusy<R>(_ call: () async throws(WeChatError) -> R) async throws(WeChatError) -> R {
        do {
            return try await call()
        } catch where error.isBusy {
            try? await Task.sleep(nanoseconds: UInt64(max(0, settings.busyRetryDelay.nanoseconds)))
            return try await call()
        }
    }

    /// Sends a request and decodes its JSON answer; an `errcode` other than 0 becomes its error.
    private func send<Reply: WeChatReply>(_ request: HTTPClientRequest) async throws(WeChatError) -> Reply {
        let bytes: ByteBuffer
        do {
            let response = try await http.execute(request, timeout: settings.timeout)
            guard response.status == .ok else { throw WeChatError.apiError }
            bytes = try await response.body.collect(upTo: Self.maxReplyBytes)
        } catch let error as WeChatError {
            throw error
        } catch is NIOTooManyBytesError {
            throw WeChatError.apiError
        } catch {
            // Never the error's description: it may hold the URL, and so the secret.
            throw WeChatError.unreachable
        }
        let reply: Reply
        do {
            reply = try JSONDecoder().decode(Reply.self, from: Data(bytes.readableBytesView))
        } catch {
            throw WeChatError.apiError
        }
        if let errcode = reply.errcode, errcode != 0 { throw WeChatError.api(errcode) }
        return reply
    }

    private static func jsonPost(_ url: String, _ body: some Encodable) throws(WeChatError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        guard let data = try? JSONEncoder().encode(body) else { throw WeChatError.badRequest }
        request.body = .bytes(ByteBuffer(bytes: data))
        return request
    }

    /// `a=1&b=2`, each value percent-encoded but for the unreserved characters of RFC 3986.
    static func query(_ items: [(String, String)]) -> String {
        items.map { "\($0.0)=\(percentEncoded($0.1))" }.joined(separator: "&")
    }

    static func percentEncoded(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
