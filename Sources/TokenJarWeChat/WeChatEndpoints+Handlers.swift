import Foundation
import Logging
import TokenJarGateway
import TokenJarStore

extension WeChatEndpoints {
    /// `POST /wx/login {"code"}`: exchanges the code through `code2Session`, binds the session to
    /// the openid (and unionid) with the raw `session_key` in `sealedSessionKey`, and rotates the
    /// token. The jar of the anonymous session is carried over; a session that was logged in as
    /// another user starts afresh instead, so one user's backend cookies never reach another.
    @Sendable func login(_ request: EndpointRequest, sessions: GatewaySessions) async throws(WeChatError) -> EndpointResponse {
        guard let api else { throw .apiError }
        let code = try EndpointBodies.checkedCode(EndpointBodies.decode(EndpointBodies.Code.self, from: request))
        let reply = try await api.code2Session(code: code)
        guard let openID = reply.openid, !openID.isEmpty,
            let keyText = reply.sessionKey, let key = Data(base64Encoded: keyText), key.count == 16
        else { throw .apiError }
        let unionID = reply.unionid.flatMap { $0.isEmpty ? nil : $0 }
        // The identity goes to the backend in a header: a value that could not be written as one
        // (CR, LF, any control byte) is WeChat answering nonsense, and the login fails.
        guard WireSafety.isFieldValue(openID), unionID.map(WireSafety.isFieldValue) ?? true else { throw .apiError }
        let identity = SessionIdentity(openID: openID, unionID: unionID, sealedSessionKey: Array(key))
        let newToken: String
        do {
            let current = try await sessions.current(token: request.token)
            if let other = current?.identity, other.openID != openID, let old = request.token {
                newToken = try await sessions.logIn(token: nil, identity: identity)
                try await sessions.revoke(token: old)
            } else {
                newToken = try await sessions.logIn(token: request.token, identity: identity)
            }
        } catch {
            logger.warning("login could not be stored", metadata: ["error": "\(error)"])
            throw .storeUnavailable
        }
        logger.info("logged in", metadata: [
            "session": "\(SessionToken.hash(newToken).shortHex)", "unionid": "\(unionID != nil)",
        ])
        return EndpointBodies.json(LoginReply(unionIDPresent: unionID != nil), token: newToken)
    }

    /// `POST /wx/decrypt {"encryptedData","iv"}`: the decrypted JSON, checked against the appid.
    @Sendable func decrypt(_ request: EndpointRequest, sessions: GatewaySessions) async throws(WeChatError) -> EndpointResponse {
        guard let settings else { throw .apiError }
        let identity = try await loggedIn(request, sessions)
        let body = try EndpointBodies.decode(EndpointBodies.Encrypted.self, from: request)
        guard let key = identity.sealedSessionKey else { throw .sessionKeyStale }
        let plaintext = try EncryptedDataDecryptor.decrypt(
            encryptedData: body.encryptedData, iv: body.iv, sessionKey: key, appID: settings.appID)
        return .json(.ok, String(decoding: plaintext, as: UTF8.self))
    }

    /// `POST /wx/phone {"code"}`: the phone number a `getPhoneNumber` code stands for, through
    /// `getuserphonenumber` with the shared `access_token`. A refused token is replaced once.
    @Sendable func phone(_ request: EndpointRequest, sessions: GatewaySessions) async throws(WeChatError) -> EndpointResponse {
        guard let api, let tokens, let settings else { throw .apiError }
        _ = try await loggedIn(request, sessions)
        let code = try EndpointBodies.checkedCode(EndpointBodies.decode(EndpointBodies.Code.self, from: request))
        var reply: PhoneNumberReply
        let token = try await tokens.token(store: sessions.store, now: sessions.now)
        do {
            reply = try await api.phoneNumber(code: code, accessToken: token)
        } catch where error.isAccessTokenInvalid {
            logger.notice("access token refused; fetching another", metadata: ["errcode": "\(error.apiCode ?? 0)"])
            await tokens.invalidate(token)
            let fresh = try await tokens.token(store: sessions.store, now: sessions.now)
            reply = try await api.phoneNumber(code: code, accessToken: fresh)
        }
        guard let info = reply.phoneInfo, let number = info.phoneNumber, let pure = info.purePhoneNumber,
            let country = info.countryCode
        else { throw .apiError }
        guard info.watermark?.appid == settings.appID else { throw .watermarkMismatch }
        return EndpointBodies.json(PhoneReply(phoneInfo: .init(phoneNumber: number, purePhoneNumber: pure, countryCode: country)))
    }

    /// `POST /logout`: revokes the session of the token; answers the same whether there was one.
    @Sendable func logout(_ request: EndpointRequest, sessions: GatewaySessions) async throws(WeChatError) -> EndpointResponse {
        if let token = request.token {
            do {
                try await sessions.revoke(token: token)
            } catch {
                logger.warning("logout could not be stored", metadata: ["error": "\(error)"])
                throw .storeUnavailable
            }
        }
        return EndpointBodies.json(LogoutReply())
    }

    /// The identity of the request's session; `login_required` when it has none.
    private func loggedIn(_ request: EndpointRequest, _ sessions: GatewaySessions) async throws(WeChatError) -> SessionIdentity {
        let view: GatewaySessions.View?
        do {
            view = try await sessions.current(token: request.token)
        } catch {
            throw .storeUnavailable
        }
        guard let identity = view?.identity else { throw .loginRequired }
        return identity
    }
}
