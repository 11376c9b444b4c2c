import NIOCore
import PostgresNIO
import TokenJarStore

/// One cell of the store's own tables, read from its binary wire form. The schema uses three
/// types: `bytea` (the bytes themselves), `bigint` (8 bytes, big-endian) and `text` (UTF-8).
/// Reading them directly spares postgres-nio's generic `decode(_:context:)`, which costs about
/// as much per cell as the rest of a row. A cell of another type or size is `StoreError.corrupt`.
struct StoredCell {
    private let cell: PostgresCell

    init(_ cell: PostgresCell) { self.cell = cell }

    private func corrupt(_ what: String) -> StoreError {
        StoreError.corrupt.with(detail: "column \(cell.columnName): \(what)")
    }

    private func checked(_ type: PostgresDataType, _ accepted: PostgresDataType...) throws {
        guard type == cell.dataType || accepted.contains(cell.dataType) else {
            throw corrupt("unexpected type \(cell.dataType)")
        }
    }

    func optionalBytes() throws -> ByteBuffer? {
        try checked(.bytea)
        return cell.bytes
    }

    func bytes() throws -> ByteBuffer {
        guard let value = try optionalBytes() else { throw corrupt("NULL") }
        return value
    }

    func optionalInt64() throws -> Int64? {
        try checked(.int8)
        guard var buffer = cell.bytes else { return nil }
        guard buffer.readableBytes == 8, let value = buffer.readInteger(as: Int64.self) else {
            throw corrupt("not 8 bytes")
        }
        return value
    }

    func int64() throws -> Int64 {
        guard let value = try optionalInt64() else { throw corrupt("NULL") }
        return value
    }

    func optionalText() throws -> String? {
        try checked(.text, .varchar, .name)
        return cell.bytes.map { String(buffer: $0) }
    }
}
