import Foundation
import Logging
import Testing
import TokenJarConfig
import TokenJarGateway
import TokenJarPostgres
import TokenJarStore

/// Opening the configured store: encryption at rest is on, or plaintext is an explicit choice.
@Suite("Store factory")
struct StoreFactoryTests {
    static let key = Data(repeating: 7, count: 32).base64EncodedString()

    func withDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let dir = try External.temporaryDirectory("factory")
        defer { try? FileManager.default.removeItem(at: dir) }
        return try await body(dir.appendingPathComponent("s.db").path)
    }

    @Test("without a key and without allow_plaintext the store is not opened, and the error says what to set")
    func refusesWithoutKey() async throws {
        try await withDirectory { path in
            let config = StoreConfig(url: .sqlite(path: path))
            do {
                _ = try await StoreFactory.open(config, logger: Logger(label: "test"))
                Issue.record("opened a store without a key")
            } catch let error as StoreSetupError {
                #expect(error == .noEncryptionKey)
                #expect("\(error)".contains("TOKENJAR_STORE_ENCRYPTION_KEYS") && "\(error)".contains("allow_plaintext"))
            }
            #expect(!FileManager.default.fileExists(atPath: path), "nothing is created before the check")
        }
    }

    @Test("keys wrap the store in encryption; allow_plaintext opens it bare; memory needs neither")
    func wrapping() async throws {
        try await withDirectory { path in
            let sealed = try await StoreFactory.open(
                StoreConfig(url: .sqlite(path: path), encryptionKeys: "4:\(Self.key)"), logger: Logger(label: "test"))
            let keyring = try #require((sealed as? SealingSessionStore)?.keyring)
            #expect(keyring.currentID == 4)
            try await sealed.shutdown()

            let plain = try await StoreFactory.open(
                StoreConfig(url: .sqlite(path: path), allowPlaintext: true), logger: Logger(label: "test"))
            #expect(plain is SQLiteSessionStore)
            try await plain.shutdown()
        }
        let memory = try await StoreFactory.open(StoreConfig(url: .memory), logger: Logger(label: "test"))
        #expect(memory is MemorySessionStore)
        try await memory.shutdown()
    }

    @Test("the memory store is never sealed, keys or not; bad keys are refused all the same")
    func memoryNotSealed() async throws {
        let memory = try await StoreFactory.open(
            StoreConfig(url: .memory, encryptionKeys: "4:\(Self.key)"), logger: Logger(label: "test"))
        #expect(memory is MemorySessionStore)
        try await memory.shutdown()
        await #expect(throws: StoreSetupError.self) {
            _ = try await StoreFactory.open(StoreConfig(url: .memory, encryptionKeys: "4:short"), logger: Logger(label: "test"))
        }
    }

    @Test("PostgreSQL URL parameters become options; unknown ones are refused")
    func postgresOptions() throws {
        let url = try PostgresURL(parsing: "postgres://tj:pw@db.internal:6432/sessions?sslmode=verify-full&application_name=edge-1&connect_timeout=4")
        var config = StoreConfig(url: .postgres(url))
        config.postgresPoolSize = 25
        config.postgresAcquireTimeout = .milliseconds(300)
        let options = try StoreFactory.postgresOptions(url, config)
        #expect(options.host == "db.internal" && options.port == 6432 && options.database == "sessions")
        #expect(options.user == "tj" && options.password == "pw" && options.tls == .verifyFull)
        #expect(options.applicationName == "edge-1" && options.connectTimeout == .seconds(4))
        #expect(options.maxConnections == 25 && options.acquireTimeout == .milliseconds(300))
        #expect(!options.endpointDescription.contains("pw") && !options.endpointDescription.contains("tj"))

        for bad in ["sslmode=sometimes", "connect_timeout=soon", "search_path=x"] {
            let url = try PostgresURL(parsing: "postgres://tj:pw@db/sessions?\(bad)")
            #expect(throws: StoreSetupError.self) { try StoreFactory.postgresOptions(url, config) }
        }
    }
}
