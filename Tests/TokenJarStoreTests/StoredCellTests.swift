import NIOCore
import PostgresNIO
import Testing
import TokenJarStore

@testable import TokenJarPostgres

/// The store's own reader of binary cells: each of the schema's three types, NULL, and cells
/// that do not fit.
@Suite("PostgreSQL stored cells")
struct StoredCellTests {
    private func cell(_ type: PostgresDataType, _ bytes: [UInt8]?) -> StoredCell {
        StoredCell(PostgresCell(
            bytes: bytes.map { ByteBuffer(bytes: $0) }, dataType: type, format: .binary,
            columnName: "c", columnIndex: 0))
    }

    @Test("bigint, bytea and text read from their binary form")
    func reads() throws {
        #expect(try cell(.int8, [0, 0, 0, 0, 0, 0, 0x01, 0x02]).int64() == 258)
        #expect(try cell(.int8, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]).int64() == -2)
        #expect(try cell(.int8, nil).optionalInt64() == nil)
        #expect(try cell(.bytea, [1, 2, 3]).bytes() == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try cell(.bytea, []).bytes() == ByteBuffer())
        #expect(try cell(.bytea, nil).optionalBytes() == nil)
        #expect(try cell(.text, Array("ö=1".utf8)).optionalText() == "ö=1")
        #expect(try cell(.varchar, Array("x".utf8)).optionalText() == "x")
        #expect(try cell(.text, nil).optionalText() == nil)
    }

    @Test("a cell of another type or size, or NULL where a value must be, is corrupt")
    func refusals() {
        #expect(throws: StoreError.corrupt) { try cell(.int4, [0, 0, 0, 1]).int64() }
        #expect(throws: StoreError.corrupt) { try cell(.int8, [0, 0, 0, 1]).int64() }
        #expect(throws: StoreError.corrupt) { try cell(.int8, nil).int64() }
        #expect(throws: StoreError.corrupt) { try cell(.text, [1]).bytes() }
        #expect(throws: StoreError.corrupt) { try cell(.bytea, nil).bytes() }
        #expect(throws: StoreError.corrupt) { try cell(.bytea, [0x41]).optionalText() }
    }
}

/// The batch statement's arrays, written directly, against postgres-nio's own array encoding.
@Suite("PostgreSQL wire arrays")
struct WireArrayTests {
    private func legacy(_ values: [PostgresData], _ element: PostgresDataType) -> PostgresData {
        PostgresData(array: values, elementType: element)
    }

    @Test("bytea, text, bigint and boolean arrays encode as postgres-nio encodes them")
    func sameAsLegacy() {
        let bytes = [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(), ByteBuffer(bytes: Array(repeating: 0xab, count: 300))]
        let strings = ["sid", "", "ö/ü", String(repeating: "x", count: 1_000)]
        let ints: [Int64] = [0, -1, .max, .min, 1_800_000_000]
        let bools = [true, false, true]
        let pairs: [(PostgresData, PostgresData)] = [
            (WireArray.bytea(bytes), legacy(bytes.map { PostgresData(bytes: $0.readableBytesView) }, .bytea)),
            (WireArray.text(strings), legacy(strings.map { PostgresData(string: $0) }, .text)),
            (WireArray.int8(ints), legacy(ints.map { PostgresData(int64: $0) }, .int8)),
            (WireArray.bool(bools), legacy(bools.map { PostgresData(bool: $0) }, .bool)),
        ]
        for (direct, reference) in pairs {
            #expect(direct.type == reference.type)
            #expect(direct.formatCode == .binary)
            #expect(direct.value == reference.value)
        }
    }

    @Test("an empty array has no dimensions")
    func empty() {
        var value = WireArray.text([]).value!
        #expect(value.readInteger(as: Int32.self) == 0)  // dimensions
        #expect(value.readInteger(as: Int32.self) == 0)  // no NULLs
        #expect(value.readInteger(as: UInt32.self) == PostgresDataType.text.rawValue)
        #expect(value.readableBytes == 0)
        #expect(WireArray.text([]).type == .textArray)
        // The cached empty arrays of the batch statement's session columns.
        for (array, element, type) in [
            (WireArray.bytea([]), PostgresDataType.bytea, PostgresDataType.byteaArray),
            (WireArray.int8([]), .int8, .int8Array), (WireArray.bool([]), .bool, .boolArray),
        ] {
            var value = array.value!
            #expect(array.type == type && array.formatCode == .binary)
            #expect(value.readInteger(as: Int32.self) == 0 && value.readInteger(as: Int32.self) == 0)
            #expect(value.readInteger(as: UInt32.self) == element.rawValue)
            #expect(value.readableBytes == 0)
        }
        // A cached value is not consumed by a reader of one copy.
        var first = WireArray.bytea([]).value!
        _ = first.readInteger(as: Int32.self)
        #expect(WireArray.bytea([]).value!.readableBytes == 12)
    }
}
