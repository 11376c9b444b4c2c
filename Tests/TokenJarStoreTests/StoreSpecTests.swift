import Foundation
import Testing
import TokenJarStore

@Suite("Store specification and errors")
struct StoreSpecTests {
    @Test("parses memory, sqlite and postgres specifications")
    func parsing() throws {
        #expect(try StoreSpec(parsing: "memory") == .memory)
        #expect(try StoreSpec(parsing: " memory\n") == .memory)
        #expect(try StoreSpec(parsing: "sqlite:data/sessions.db") == .sqlite(path: "data/sessions.db"))
        #expect(try StoreSpec(parsing: "sqlite:/var/lib/tokenjar/s.db") == .sqlite(path: "/var/lib/tokenjar/s.db"))
        #expect(try StoreSpec(parsing: "sqlite:///var/lib/tokenjar/s.db") == .sqlite(path: "/var/lib/tokenjar/s.db"))
        #expect(try StoreSpec(parsing: "SQLite:Data.db") == .sqlite(path: "Data.db"))
        #expect(try StoreSpec(parsing: "postgres://u:p@db/tokenjar") == .postgres(url: "postgres://u:p@db/tokenjar"))
        #expect(try StoreSpec(parsing: "postgresql://db/tokenjar") == .postgres(url: "postgresql://db/tokenjar"))
        for bad in ["", "sqlite:", "sqlite://", "redis://x", "mem", "file:x.db"] {
            #expect(throws: StoreError.invalidSpec) { try StoreSpec(parsing: bad) }
        }
    }

    @Test("descriptions hide passwords")
    func redaction() throws {
        #expect(try StoreSpec(parsing: "postgres://tj:hunter2@db:5432/tokenjar?sslmode=require").description
            == "postgres://tj:***@db:5432/tokenjar?sslmode=require")
        #expect(try StoreSpec(parsing: "postgres://db/tokenjar").description == "postgres://db/tokenjar")
        #expect(try StoreSpec(parsing: "sqlite:a.db").description == "sqlite:a.db")
    }

    @Test("the factory opens memory and sqlite stores, and refuses postgres in this build")
    func factory() async throws {
        let memory = try StoreSpec.memory.makeStore()
        #expect(memory is MemorySessionStore && memory.isExclusive)
        try await memory.shutdown()

        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let path = directory.appendingPathComponent("nested/dir/sessions.db").path
        let sqlite = try StoreSpec(parsing: "sqlite:\(path)").makeStore()
        #expect(sqlite is SQLiteSessionStore && sqlite.isExclusive)
        #expect(FileManager.default.fileExists(atPath: path))
        try await sqlite.ping()
        try await sqlite.shutdown()

        do {
            _ = try StoreSpec(parsing: "postgres://u:secret@db/x").makeStore()
            Issue.record("postgres store opened")
        } catch let error as StoreError {
            #expect(error == .notSupported)
            #expect(!error.description.contains("secret"))
        }
    }

    @Test("errors compare by kind and describe themselves")
    func errors() {
        #expect(StoreError.closed == .closed)
        #expect(StoreError.closed.with(detail: "x") == .closed)
        #expect(StoreError.closed != .sessionNotFound)
        #expect(StoreError.sessionNotFound.description == "session not found")
        #expect(StoreError.unavailable.with(detail: "disk I/O error").description == "session store unavailable: disk I/O error")
    }
}
