import NIOCore
import PostgresNIO

/// One-dimensional arrays in PostgreSQL's binary array format, written straight into one buffer
/// for the prepared batch statement (`PostgresBatchStatement.preparedBinds`). postgres-nio's
/// legacy `PostgresData(array:elementType:)` builds a `PostgresData`, with its own buffer, for
/// every element first.
///
/// The format (`array_send`): the number of dimensions, a flag for NULL elements, the element
/// type's OID, then per dimension its length and lower bound (1), then each element as a 32-bit
/// length and its bytes. An empty array has no dimensions.
enum WireArray {
    static func bytea(_ values: [ByteBuffer]) -> PostgresData {
        array(values, .bytea, .byteaArray, payload: values.reduce(0) { $0 + $1.readableBytes }) { buffer, value in
            buffer.writeInteger(Int32(value.readableBytes))
            buffer.writeImmutableBuffer(value)
        }
    }

    static func text(_ values: [String]) -> PostgresData {
        array(values, .text, .textArray, payload: values.reduce(0) { $0 + $1.utf8.count }) { buffer, value in
            buffer.writeInteger(Int32(value.utf8.count))
            buffer.writeString(value)
        }
    }

    static func int8(_ values: [Int64]) -> PostgresData {
        array(values, .int8, .int8Array, payload: 8 * values.count) { buffer, value in
            buffer.writeInteger(Int32(8))
            buffer.writeInteger(value)
        }
    }

    static func bool(_ values: [Bool]) -> PostgresData {
        array(values, .bool, .boolArray, payload: values.count) { buffer, value in
            buffer.writeInteger(Int32(1))
            buffer.writeInteger(UInt8(value ? 1 : 0))
        }
    }

    private static func array<T>(
        _ values: [T], _ element: PostgresDataType, _ arrayType: PostgresDataType, payload: Int,
        _ write: (inout ByteBuffer, T) -> Void
    ) -> PostgresData {
        if values.isEmpty { return empty(element, arrayType) }
        var buffer = ByteBufferAllocator().buffer(capacity: 20 + 4 * values.count + payload)
        buffer.writeInteger(Int32(values.isEmpty ? 0 : 1))  // dimensions
        buffer.writeInteger(Int32(0))  // no NULL elements
        buffer.writeInteger(element.rawValue)
        if !values.isEmpty {
            buffer.writeInteger(Int32(values.count))
            buffer.writeInteger(Int32(1))  // lower bound
            for value in values { write(&buffer, value) }
        }
        return PostgresData(type: arrayType, formatCode: .binary, value: buffer)
    }

    /// An empty array is the same 12 bytes every time: most batches leave some of the batch
    /// statement's arrays empty (no new session, no touch).
    private static func empty(_ element: PostgresDataType, _ arrayType: PostgresDataType) -> PostgresData {
        switch element {
        case .bytea: emptyBytea
        case .int8: emptyInt8
        default: make(element, arrayType)
        }
    }

    private static let emptyBytea = make(.bytea, .byteaArray)
    private static let emptyInt8 = make(.int8, .int8Array)

    private static func make(_ element: PostgresDataType, _ arrayType: PostgresDataType) -> PostgresData {
        var buffer = ByteBufferAllocator().buffer(capacity: 12)
        buffer.writeInteger(Int32(0))  // no dimensions
        buffer.writeInteger(Int32(0))  // no NULL elements
        buffer.writeInteger(element.rawValue)
        return PostgresData(type: arrayType, formatCode: .binary, value: buffer)
    }
}
