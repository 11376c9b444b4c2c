// libFuzzer target: the input path of `POST /_tokenjar/wx/decrypt` (base64 inputs, AES-128-CBC,
// PKCS#7, the JSON watermark check). Built only with `swift build --sanitize=fuzzer` (see
// scripts/fuzz); in a plain build it does nothing.
//
// The first byte picks a mode, the rest is its input:
//   0  the request body, decoded as the endpoint decodes it, under a fixed key;
//   1  raw ciphertext bytes (base64-encoded here) under a fixed key and IV;
//   2  a plaintext, padding included, encrypted here without padding, so the padding check and
//      the JSON parser see the fuzzer's bytes (AES cannot be steered from the ciphertext side);
//   3  a key and an IV of fuzzed lengths, then the ciphertext.
// Invariants: no crash; only the documented errors; a success is a JSON object stamped with the
// appid, equal to the plaintext less its padding; malformed base64, IV or length is bad_request.
import Crypto
import Foundation
import TokenJarWeChat
import _CryptoExtras

let fixedKey: [UInt8] = Array(0..<16)
let fixedIV: [UInt8] = Array(100..<116)
let appID = "wx4f4bc4dec97d474b"
let expectedCodes: Set<String> = ["bad_request", "session_key_stale", "watermark_mismatch"]

struct EncryptedBody: Decodable {
    var encryptedData: String
    var iv: String
}

func attempt(_ encryptedData: String, _ iv: String, key: [UInt8]) -> Result<[UInt8], WeChatError> {
    do throws(WeChatError) {
        let plaintext = try EncryptedDataDecryptor.decrypt(encryptedData: encryptedData, iv: iv, sessionKey: key, appID: appID)
        guard let object = try? JSONSerialization.jsonObject(with: Data(plaintext)) as? [String: Any],
            let watermark = object["watermark"] as? [String: Any], watermark["appid"] as? String == appID
        else { fatalError("decrypt accepted a plaintext without this appid's watermark") }
        return .success(plaintext)
    } catch {
        guard expectedCodes.contains(error.code) else { fatalError("unexpected error \(error.code)") }
        return .failure(error)
    }
}

func base64(_ bytes: some Collection<UInt8>) -> String { Data(bytes).base64EncodedString() }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWeChatDecrypt(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    let input = Array(bytes.dropFirst())
    switch mode % 4 {
    case 0:
        guard let body = try? JSONDecoder().decode(EncryptedBody.self, from: Data(input)) else { return 0 }
        _ = attempt(body.encryptedData, body.iv, key: fixedKey)
    case 1:
        let result = attempt(base64(input), base64(fixedIV), key: fixedKey)
        if input.isEmpty || input.count % 16 != 0, case .failure(let error) = result, error.code != "bad_request" {
            fatalError("a ciphertext of \(input.count) bytes is not bad_request")
        }
    case 2:
        var plaintext = input
        if plaintext.isEmpty || plaintext.count % 16 != 0 {
            let pad = 16 - plaintext.count % 16
            plaintext += [UInt8](repeating: UInt8(pad), count: pad)
        }
        guard let ciphertext = try? AES._CBC.encrypt(
            plaintext, using: SymmetricKey(data: fixedKey), iv: AES._CBC.IV(ivBytes: fixedIV), noPadding: true)
        else { fatalError("encryption of whole blocks failed") }
        if case .success(let opened) = attempt(base64(ciphertext), base64(fixedIV), key: fixedKey) {
            let padding = Int(plaintext.last!)
            guard opened == Array(plaintext.dropLast(padding)) else { fatalError("decrypt returned other bytes") }
        }
    default:
        guard input.count >= 2 else { return 0 }
        let keyLength = Int(input[0]) % 40, ivLength = Int(input[1]) % 40
        let rest = input.dropFirst(2)
        let key = Array(rest.prefix(keyLength))
        let iv = Array(rest.dropFirst(keyLength).prefix(ivLength))
        let ciphertext = Array(rest.dropFirst(keyLength + ivLength))
        let result = attempt(base64(ciphertext), base64(iv), key: key)
        if case .failure(let error) = result {
            let malformed = iv.count != 16 || ciphertext.isEmpty || ciphertext.count % 16 != 0
            if malformed != (error.code == "bad_request") { fatalError("bad_request for the wrong reason") }
        } else if key.count != 16 || iv.count != 16 {
            fatalError("decrypt accepted a key of \(key.count) or an IV of \(iv.count) bytes")
        }
    }
    return 0
}
