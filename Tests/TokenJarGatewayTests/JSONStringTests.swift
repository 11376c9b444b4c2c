import Foundation
import Testing
@testable import TokenJarGateway

@Suite("JSON string escaping")
struct JSONStringTests {
    @Test("quotes, backslashes, control characters, DEL and line separators are escaped; the text reads back unchanged")
    func escapesAndRoundTrips() throws {
        let text = "a\"b\\c\nd\re\tf\u{08}g\u{0C}h\u{01}i\u{7F}j\u{2028}k\u{2029}l 中文 é"
        let quoted = JSONString.quoted(text)
        #expect(quoted == #""a\"b\\c\nd\re\tf\bg\fh\u0001i\u007fj\u2028k\u2029l 中文 é""#)
        let decoded = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
        #expect(decoded == text)
    }

    @Test("appending keeps what is already there")
    func appends() {
        var line = "{\"msg\":"
        JSONString.append("x", to: &line)
        #expect(line == "{\"msg\":\"x\"")
    }
}
