import Foundation

/// A throwaway certificate authority made with the `openssl` command for TLS tests: a CA and the
/// leaf certificates it signs (EC P-256, valid two days), as PEM files in a directory.
public struct TestCertificateAuthority: Sendable {
    /// A certificate and its key, as files.
    public struct Issued: Sendable {
        public var certificate: String
        public var key: String
    }

    public let directory: URL
    public let certificate: String
    public let key: String

    /// Whether the `openssl` command is there; TLS tests that need it are skipped without it.
    public static var available: Bool { External.find("openssl") != nil }

    /// A new CA named `name` in `directory`.
    public static func make(in directory: URL, name: String = "ca") throws -> TestCertificateAuthority {
        let cert = directory.appendingPathComponent("\(name).pem").path
        let key = directory.appendingPathComponent("\(name).key").path
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=TokenJar Test CA \(name)",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        return TestCertificateAuthority(directory: directory, certificate: cert, key: key)
    }

    /// A leaf certificate for `localhost` and 127.0.0.1 with the given serial and common name,
    /// usable by servers and clients, written to `<file>.pem` and `<file>.key`.
    @discardableResult
    public func issue(_ file: String, commonName: String = "localhost", serial: Int) throws -> Issued {
        let cert = directory.appendingPathComponent("\(file).pem").path
        let key = directory.appendingPathComponent("\(file).key").path
        let request = directory.appendingPathComponent("\(file).csr").path
        let extensions = directory.appendingPathComponent("\(file).ext").path
        try """
            basicConstraints=CA:FALSE
            subjectAltName=DNS:localhost,IP:127.0.0.1
            extendedKeyUsage=serverAuth,clientAuth
            """.write(toFile: extensions, atomically: true, encoding: .utf8)
        try Self.openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", request, "-subj", "/CN=\(commonName)",
        ])
        try Self.openssl([
            "x509", "-req", "-in", request, "-CA", certificate, "-CAkey", self.key, "-set_serial", "\(serial)",
            "-days", "2", "-out", cert, "-extfile", extensions,
        ])
        return Issued(certificate: cert, key: key)
    }

    private static func openssl(_ arguments: [String]) throws {
        guard let path = External.find("openssl") else { throw ExternalError("openssl not found") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ExternalError("openssl \(arguments.first ?? "") failed: \(text)")
        }
    }
}
