import NIOConcurrencyHelpers
import NIOSSL

/// PEM files for one side of a TLS connection: a certificate chain (leaf first) and its key.
public struct TLSCertificateFiles: Sendable, Hashable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }

    /// The chain and key as NIOSSL reads them; throws when a file is missing or not PEM.
    func load() throws -> (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource) {
        let chain = try Self.reading(certificateChain) { try NIOSSLCertificate.fromPEMFile($0) }
        guard !chain.isEmpty else { throw TLSSetupError("\(certificateChain): no certificate in the file") }
        let key = try Self.reading(privateKey) { try NIOSSLPrivateKey(file: $0, format: .pem) }
        return (chain.map { .certificate($0) }, .privateKey(key))
    }

    static func reading<T>(_ path: String, _ read: (String) throws -> T) throws -> T {
        do {
            return try read(path)
        } catch {
            throw TLSSetupError("\(path): \(error)")
        }
    }
}

/// How `https://` upstreams are reached: which CAs to trust, and which certificate to present.
public struct UpstreamTLSOptions: Sendable, Hashable {
    /// PEM bundle of trusted CAs; nil uses the system's trust roots.
    public var caFile: String?
    /// The client certificate for mutual TLS; nil presents none.
    public var clientCertificate: TLSCertificateFiles?

    public init(caFile: String? = nil, clientCertificate: TLSCertificateFiles? = nil) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
    }

    /// The client context, when `routes` has an `https://` upstream or TLS settings are given
    /// (so that a bad file is reported even before such an upstream is configured).
    func makeContext(for routes: RouteTable) throws -> NIOSSLContext? {
        let needed = caFile != nil || clientCertificate != nil
            || routes.routes.contains { $0.upstreams.contains(where: \.isTLS) }
        return needed ? try makeContext() : nil
    }

    /// A client context that verifies the upstream's chain and host name, speaking HTTP/1.1.
    func makeContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.applicationProtocols = ["http/1.1"]
        if let caFile {
            let roots = try TLSCertificateFiles.reading(caFile) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else { throw TLSSetupError("\(caFile): no certificate in the file") }
            configuration.trustRoots = .certificates(roots)
        }
        if let clientCertificate {
            let (chain, key) = try clientCertificate.load()
            configuration.certificateChain = chain
            configuration.privateKey = key
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// Why a TLS context could not be made; names the file and the problem, never key material.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A TLS context that a reload may replace: each new connection takes the current one, and
/// connections made earlier keep the context they started with.
final class ReloadableTLSContext: Sendable {
    private let box: NIOLockedValueBox<NIOSSLContext?>

    init(_ context: NIOSSLContext?) { box = NIOLockedValueBox(context) }

    var current: NIOSSLContext? { box.withLockedValue { $0 } }

    func replace(with context: NIOSSLContext?) { box.withLockedValue { $0 = context } }
}

extension TLSCertificateFiles {
    /// The public listener's context: this certificate, HTTP/2 and HTTP/1.1 offered by ALPN.
    func makeServerContext() throws -> NIOSSLContext {
        let (chain, key) = try load()
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        configuration.applicationProtocols = ["h2", "http/1.1"]
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("\(certificateChain) with \(privateKey): \(error)")
        }
    }
}
