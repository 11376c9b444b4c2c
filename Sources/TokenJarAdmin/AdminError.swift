import Foundation
import Hummingbird

/// An error the admin listener answers, in the gateway's JSON shape:
/// `{"error":{"code":"...","message":"..."}}`. Messages are fixed strings.
struct AdminError: Error, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    static let unauthorized = AdminError(
        status: .unauthorized, code: "unauthorized", message: "The sessions API needs Authorization: Bearer <admin token>.")
    static let closed = AdminError(
        status: .unauthorized, code: "admin_token_unset",
        message: "No admin token is configured (admin.token, TOKENJAR_ADMIN_TOKEN); the sessions API is closed.")
    static let prefixTooShort = AdminError(
        status: .badRequest, code: "bad_prefix", message: "A token-hash prefix is 6 to 64 hex digits.")
    static let badQuery = AdminError(
        status: .badRequest, code: "bad_request", message: "Give either prefix or openid.")
    static let notFound = AdminError(status: .notFound, code: "not_found", message: "No session matches.")
    static let ambiguous = AdminError(
        status: .conflict, code: "ambiguous_prefix", message: "Several sessions match; give a longer prefix.")
    static let storeUnavailable = AdminError(
        status: .serviceUnavailable, code: "store_unavailable", message: "The session store is unavailable; retry shortly.")

    var response: Response {
        AdminJSON.response(status, #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#)
    }
}

enum AdminJSON {
    static func response(_ status: HTTPResponse.Status, _ json: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    static func response(_ status: HTTPResponse.Status, encoding value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            return response(.internalServerError, #"{"error":{"code":"internal","message":"Encoding failed."}}"#)
        }
        return response(status, String(decoding: data, as: UTF8.self))
    }
}
