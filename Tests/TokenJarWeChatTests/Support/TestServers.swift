// The gateway, backend and client used by these tests come from the shared test support
// (RunningGateway, TestBackend, TestHTTPClient).
@_exported import TokenJarTestSupport

/// The backend of the WeChat tests: records every request, answers `ok`, and sets a
/// `JSESSIONID` cookie on `/start`.
func startWeChatBackend() async throws -> TestBackend {
    try await TestBackend.start { request in
        request.uri == "/start" ? BackendResponse(headers: [("Set-Cookie", "JSESSIONID=j1; Path=/")]) : BackendResponse()
    }
}
