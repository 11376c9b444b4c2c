// libFuzzer target: client token header values (SessionToken). Built only with
// `swift build --sanitize=fuzzer` (see scripts/fuzz); in a plain build it does nothing.
//
// Invariants: a value is well-formed exactly when it is 43 characters of the base64url
// alphabet; the check agrees on String and Substring; every well-formed value hashes to 32
// bytes; 32 bytes encode to a well-formed token that decodes back to the same bytes.
import TokenJarGateway

let tokenAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

func referenceWellFormed(_ bytes: some Collection<UInt8>) -> Bool {
    bytes.count == 43 && bytes.allSatisfy { tokenAlphabet.contains($0) }
}

/// Base64url without padding, decoded independently of the gateway's encoder.
func referenceDecode(_ token: String) -> [UInt8]? {
    var bits: UInt32 = 0
    var count = 0
    var out: [UInt8] = []
    for byte in token.utf8 {
        guard let index = tokenAlphabet.firstIndex(of: byte) else { return nil }
        bits = bits << 6 | UInt32(index)
        count += 6
        if count >= 8 {
            count -= 8
            out.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
            bits &= (1 << UInt32(count)) - 1
        }
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokens(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let wellFormed = SessionToken.isWellFormed(text)
    if wellFormed != referenceWellFormed(Array(text.utf8)) { fatalError("isWellFormed disagrees with the token shape") }
    if wellFormed != SessionToken.isWellFormed(text[...]) { fatalError("isWellFormed differs on a Substring") }
    if wellFormed, SessionToken.hash(text).bytes.count != 32 { fatalError("token hash is not 32 bytes") }

    if bytes.count >= 32 {
        let raw = Array(bytes.prefix(32))
        let token = SessionToken.encode(raw)
        guard SessionToken.isWellFormed(token) else { fatalError("encoded bytes are not a well-formed token") }
        guard referenceDecode(token) == raw else { fatalError("token does not decode to its bytes") }
    }
    let encoded = SessionToken.encode(Array(bytes.prefix(64)))
    guard referenceDecode(encoded) == Array(bytes.prefix(64)) else { fatalError("encode/decode round trip failed") }
    return 0
}
