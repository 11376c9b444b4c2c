import Crypto
import Foundation
import _CryptoExtras

/// Opens the `encryptedData` of `wx.getUserInfo`, `wx.getWeRunData`, `wx.getShareInfo` and the
/// like: AES-128-CBC with PKCS#7 padding under the session's `session_key`, holding a JSON object
/// whose `watermark.appid` must be this mini-program's.
///
/// When the client called `wx.login` again without logging in through the gateway, WeChat
/// issued a new `session_key` and the one kept here is stale: the padding or the JSON then
/// comes out invalid, and the answer is `session_key_stale`, which tells the client to log in
/// again. Malformed input (not base64, an IV that is not 16 bytes, a length that is not whole
/// blocks) is the client's fault: `bad_request`.
///
/// `package` (not public) so the package's fuzz target can drive `decrypt` directly.
package enum EncryptedDataDecryptor {
    static let blockSize = 16

    /// The decrypted JSON object, as its UTF-8 bytes.
    package static func decrypt(
        encryptedData: String, iv: String, sessionKey: [UInt8], appID: String
    ) throws(WeChatError) -> [UInt8] {
        guard let ciphertext = Data(base64Encoded: encryptedData), let ivBytes = Data(base64Encoded: iv),
            ivBytes.count == blockSize, !ciphertext.isEmpty, ciphertext.count % blockSize == 0
        else { throw .badRequest }
        guard sessionKey.count == blockSize else { throw .sessionKeyStale }
        let padded: Data
        do {
            padded = try AES._CBC.decrypt(
                ciphertext, using: SymmetricKey(data: sessionKey), iv: AES._CBC.IV(ivBytes: ivBytes), noPadding: true)
        } catch {
            throw .sessionKeyStale
        }
        guard let plaintext = unpadded(Array(padded)) else { throw .sessionKeyStale }
        guard let object = try? JSONSerialization.jsonObject(with: Data(plaintext)) as? [String: Any] else {
            throw .sessionKeyStale
        }
        guard let watermark = object["watermark"] as? [String: Any], let stamped = watermark["appid"] as? String,
            stamped == appID
        else { throw .watermarkMismatch }
        return plaintext
    }

    /// Removes PKCS#7 padding: the last byte `n` (1...16) and `n` bytes equal to it; nil when the
    /// padding is not valid. The check reads every padding byte, whatever the first mismatch.
    static func unpadded(_ bytes: [UInt8]) -> [UInt8]? {
        guard let last = bytes.last, last >= 1, Int(last) <= blockSize, bytes.count >= Int(last) else { return nil }
        var difference: UInt8 = 0
        for byte in bytes.suffix(Int(last)) { difference |= byte ^ last }
        guard difference == 0 else { return nil }
        return Array(bytes.dropLast(Int(last)))
    }
}
