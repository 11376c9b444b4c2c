import Foundation
import Testing

@testable import TokenJarConfig

/// The store's encryption and PostgreSQL keys.
@Suite struct StoreEncryptionConfigTests {
    static let key = Data(repeating: 3, count: 32).base64EncodedString()

    @Test func defaultsAndEnvironment() throws {
        let defaults = StoreConfig()
        #expect(defaults.encryptionKeys == "" && !defaults.allowPlaintext)
        #expect(defaults.postgresPoolSize == 10 && defaults.postgresAcquireTimeout == .milliseconds(500))
        #expect(defaults.postgresStatementTimeout == .seconds(5))

        let config = try #require(load(yaml: "store:\n  allow_plaintext: false\n", environment: [
            "TOKENJAR_STORE_ENCRYPTION_KEYS": "2:\(Self.key), 1:\(Self.key)",
            "TOKENJAR_STORE_ALLOW_PLAINTEXT": "true",
            "TOKENJAR_STORE_POSTGRES_POOL_SIZE": "32",
            "TOKENJAR_STORE_POSTGRES_ACQUIRE_TIMEOUT": "250ms",
            "TOKENJAR_STORE_POSTGRES_STATEMENT_TIMEOUT": "2s",
        ]))
        #expect(config.store.encryptionKeys == "2:\(Self.key), 1:\(Self.key)")
        #expect(config.store.allowPlaintext)
        #expect(config.store.postgresPoolSize == 32)
        #expect(config.store.postgresAcquireTimeout == .milliseconds(250))
        #expect(config.store.postgresStatementTimeout == .seconds(2))
    }

    @Test func keysAreSecretAndChecked() throws {
        let entry = try #require(ConfigRegistry.key(at: "store.encryption_keys"))
        #expect(entry.key.isSecret)
        #expect(ConfigDocs.markdownTable().contains("| `store.encryption_keys` | key list (`id:base64key,...`) | `(secret)` | `TOKENJAR_STORE_ENCRYPTION_KEYS` |"))

        let short = Data(repeating: 3, count: 16).base64EncodedString()
        for bad in ["1", "x:\(Self.key)", "300:\(Self.key)", "1:\(short)", "1:\(Self.key),1:\(Self.key)", "1:!!"] {
            let found = problems(yaml: "store:\n  encryption_keys: \"\(bad)\"\n")
            #expect(found.map(\.keyPath) == ["store.encryption_keys"], "\(bad)")
            let text = found.map(\.description).joined()
            #expect(!text.contains(Self.key) && !text.contains(short) && !text.contains("!!"))
        }
        #expect(problems(yaml: "store:\n  encryption_keys: \"\"\n").isEmpty)
        #expect(problems(yaml: "store:\n  postgres_pool_size: 0\n").map(\.keyPath) == ["store.postgres_pool_size"])
    }
}
