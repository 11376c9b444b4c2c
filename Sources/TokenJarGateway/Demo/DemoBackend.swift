import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small legacy cookie-session application, bundled for `tokenjar demo`: it behaves like a
/// PHP app with `session_start()` — a `DEMOSESSID` cookie names a server-side session that
/// counts visits and remembers who logged in.
///
/// - `GET /` → `{"visits": N, "user": …, "new_session": …}`
/// - `GET /login?user=NAME` → remembers the user, sets a `theme` cookie
/// - `GET /logout` → destroys the session and expires `DEMOSESSID`
public final class DemoBackend: Sendable {
    struct Session {
        var visits = 0
        var user: String?
    }

    private let sessions = NIOLockedValueBox<[String: Session]>([:])

    public init() {}

    /// Starts listening; returns the bound channel.
    public func start(host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(DemoHandler(app: self))
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    func handle(method: HTTPMethod, uri: String, cookie: String?) -> (status: HTTPResponseStatus, setCookie: [String], body: String) {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        let sid = cookie.flatMap { Self.cookieValue("DEMOSESSID", in: $0) }
        return sessions.withLockedValue { sessions in
            var setCookie: [String] = []
            var isNew = false
            var id = sid ?? ""
            if sid == nil || sessions[id] == nil {
                id = Self.newSessionID()
                sessions[id] = Session()
                isNew = true
                setCookie.append("DEMOSESSID=\(id); Path=/; HttpOnly")
            }
            switch path {
            case "/":
                sessions[id]!.visits += 1
                let s = sessions[id]!
                let user = s.user.map { "\"\($0)\"" } ?? "null"
                return (.ok, setCookie, #"{"visits":\#(s.visits),"user":\#(user),"new_session":\#(isNew)}"#)
            case "/login":
                let user = query.split(separator: "&").first { $0.hasPrefix("user=") }.map { String($0.dropFirst(5)) } ?? "guest"
                let safe = String(user.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }.prefix(32).map(Character.init))
                sessions[id]!.user = safe
                setCookie.append("theme=dark; Path=/; Max-Age=86400")
                return (.ok, setCookie, #"{"logged_in":"\#(safe)"}"#)
            case "/logout":
                sessions[id] = nil
                setCookie = ["DEMOSESSID=deleted; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
                return (.ok, setCookie, #"{"logged_out":true}"#)
            default:
                return (.notFound, setCookie, #"{"error":"not found"}"#)
            }
        }
    }

    static func cookieValue(_ name: String, in header: String) -> String? {
        for pair in header.split(separator: ";") {
            let trimmed = pair.drop { $0 == " " }
            if trimmed.hasPrefix(name + "=") { return String(trimmed.dropFirst(name.count + 1)) }
        }
        return nil
    }

    static func newSessionID() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(rng.next() as UInt32, radix: 16) }.joined()
    }
}

final class DemoHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let app: DemoBackend
    var head: HTTPRequestHead?

    init(app: DemoBackend) { self.app = app }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            let result = app.handle(method: head.method, uri: head.uri, cookie: head.headers.first(name: "cookie"))
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(result.body.utf8.count))
            for c in result.setCookie { headers.add(name: "Set-Cookie", value: c) }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: result.status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: result.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}
