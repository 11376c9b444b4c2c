import NIOSSL
import PostgresNIO

/// The postgres-nio client configuration for a store's options.
enum PostgresClientSetup {
    static func configuration(_ options: PostgresStoreOptions) -> PostgresClient.Configuration {
        var config = PostgresClient.Configuration(
            host: options.host, port: options.port, username: options.user, password: options.password,
            database: options.database, tls: tls(options.tls))
        config.options.connectTimeout = options.connectTimeout
        config.options.maximumConnections = max(1, options.maxConnections)
        // One connection stays open, so the first request after a quiet spell does not pay for
        // connecting (and the pool notices a lost database without a request).
        config.options.minimumConnections = options.maxConnections > 1 ? 1 : 0
        config.options.keepAliveBehavior = .init(frequency: .seconds(30))
        config.options.additionalStartupParameters = [
            ("application_name", options.applicationName),
            // The server ends a statement the gateway has stopped waiting for.
            ("statement_timeout", "\(options.statementTimeout.wholeMilliseconds)"),
            // A transaction left open by a stalled client cannot hold row locks for long.
            ("idle_in_transaction_session_timeout", "\(options.statementTimeout.wholeMilliseconds * 2)"),
        ]
        return config
    }

    /// The configuration of one dedicated connection (`PostgresLanes`), with the pool's
    /// deadlines and startup parameters.
    static func connectionConfiguration(_ options: PostgresStoreOptions) throws -> PostgresConnection.Configuration {
        var config = PostgresConnection.Configuration(
            host: options.host, port: options.port, username: options.user, password: options.password,
            database: options.database, tls: try connectionTLS(options.tls))
        config.options.connectTimeout = TimeAmount(options.connectTimeout)
        config.options.additionalStartupParameters = configuration(options).options.additionalStartupParameters
        return config
    }

    private static func connectionTLS(_ mode: PostgresStoreOptions.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        guard let (tls, required) = tlsSettings(mode) else { return .disable }
        let context = try NIOSSLContext(configuration: tls)
        return required ? .require(context) : .prefer(context)
    }

    private static func tls(_ mode: PostgresStoreOptions.TLSMode) -> PostgresClient.Configuration.TLS {
        guard let (tls, required) = tlsSettings(mode) else { return .disable }
        return required ? .require(tls) : .prefer(tls)
    }

    /// What a mode asks of TLS: nil for none; else the client configuration (certificates
    /// verified only for `verify-full`) and whether a server without TLS is refused.
    private static func tlsSettings(_ mode: PostgresStoreOptions.TLSMode) -> (TLSConfiguration, required: Bool)? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable:
            return nil
        case .prefer:
            tls.certificateVerification = .none
            return (tls, false)
        case .require:
            tls.certificateVerification = .none
            return (tls, true)
        case .verifyFull:
            return (tls, true)
        }
    }
}
