import Foundation

/// Encodes any `Encodable` value as JSON with sorted keys and exact RFC 3339 dates.
///
/// Foundation's `JSONEncoder` builds a tree of every value before writing it; on Linux it
/// encodes a 100,000-user directory at about 8 MB/s, far too slow for snapshots. This one
/// writes straight into a byte buffer through the same Codable calls, so any type encodes
/// as it would with `JSONEncoder` (keys sorted, `nil` optionals left out, enums with
/// associated values as nested objects), except for dates, which are RFC 3339 strings, and
/// sets, whose elements are sorted (see ``UnorderedEncodable``).
///
/// Containers shallower than `expandedDepth` put each member on its own line: a snapshot
/// with depth 3 has one line per user, group or delegation, so two snapshots diff by entry.
struct StorageJSONEncoder {
    /// The depth below which containers are spread over lines; 0 for compact output.
    var expandedDepth = 0

    /// A misuse of the Codable contract by the value being encoded.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let output = JSONOutput(expandedDepth: expandedDepth)
        try JSONValueEncoder(output: output).encodeValue(value)
        output.close(downTo: 0)
        if let failure = output.failure { throw Failure(description: failure) }
        return output.bytes
    }
}

/// The `Encoder` for one value.
final class JSONValueEncoder: Encoder {
    let output: JSONOutput
    /// The encoder of the enclosing value and the key of this one in it; the coding path
    /// is built from them only when asked for, which is rarely.
    private let parent: JSONValueEncoder?
    private let key: (any CodingKey)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var encoder: JSONValueEncoder? = self
        while let current = encoder {
            if let key = current.key { path.append(key) }
            encoder = current.parent
        }
        return path.reversed()
    }
    /// The container this encoder handed out, so that asking twice gives the same one.
    private var keyed: JSONOutput.Handle?
    private var unkeyed: JSONOutput.Handle?

    init(output: JSONOutput, parent: JSONValueEncoder? = nil, key: (any CodingKey)? = nil) {
        self.output = output
        self.parent = parent
        self.key = key
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let handle = keyed ?? output.open(.object)
        keyed = handle
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<Key>(encoder: self, handle: handle))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let handle = unkeyed ?? output.open(.array)
        unkeyed = handle
        return JSONUnkeyedEncodingContainer(encoder: self, handle: handle)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueEncodingContainer(encoder: self)
    }

    /// An encoder at this one's coding path for a value written through its single-value
    /// container.
    private func reusedForSingleValue() -> JSONValueEncoder {
        JSONValueEncoder(output: output, parent: parent, key: key)
    }

    /// Writes `value` at the current position, closing whatever containers it opened.
    func encodeValue<T: Encodable>(_ value: T, key: (any CodingKey)? = nil) throws {
        // Metatype comparisons, unlike casts, cost next to nothing.
        if T.self == String.self { return output.writeString(unsafeBitCast(value, to: String.self)) }
        if T.self == Date.self { return output.writeDate(unsafeBitCast(value, to: Date.self)) }
        if T.self == UInt64.self { return output.writeInteger(unsafeBitCast(value, to: UInt64.self)) }
        if T.self == Int.self { return output.writeInteger(unsafeBitCast(value, to: Int.self)) }
        if T.self == Bool.self { return output.writeBool(unsafeBitCast(value, to: Bool.self)) }
        do {
            let depth = output.depth
            let start = output.bytes.count
            let child = key.map { JSONValueEncoder(output: output, parent: self, key: $0) } ?? self.reusedForSingleValue()
            if output.isUnordered(T.self), let unordered = value as? any UnorderedEncodable {
                try unordered.encodeSorted(to: child)
            } else {
                try value.encode(to: child)
            }
            output.close(downTo: depth)
            if output.bytes.count == start { output.bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")]) }
        }
    }
}

struct JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: JSONValueEncoder
    let handle: JSONOutput.Handle
    var codingPath: [any CodingKey] { encoder.codingPath }
    private var output: JSONOutput { encoder.output }

    init(encoder: JSONValueEncoder, handle: JSONOutput.Handle) {
        self.encoder = encoder
        self.handle = handle
    }

    private func begin(_ key: Key) -> Bool {
        output.beginMember(handle, key: key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws { if begin(key) { output.writeNull() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { if begin(key) { output.writeBool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { if begin(key) { output.writeString(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { if begin(key) { output.writeFloatingPoint(value) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { if begin(key) { output.writeFloatingPoint(value) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { if begin(key) { output.writeInteger(value) } }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if begin(key) { try encoder.encodeValue(value, key: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        _ = begin(key)
        let nested = JSONValueEncoder(output: output, parent: encoder, key: key)
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<NestedKey>(encoder: nested, handle: output.open(.object)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        _ = begin(key)
        let nested = JSONValueEncoder(output: output, parent: encoder, key: key)
        return JSONUnkeyedEncodingContainer(encoder: nested, handle: output.open(.array))
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(forKey: Key(stringValue: "super")!)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        _ = begin(key)
        _ = output.open(.value)
        return JSONValueEncoder(output: output, parent: encoder, key: key)
    }
}

struct JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: JSONValueEncoder
    let handle: JSONOutput.Handle
    private(set) var count = 0
    var codingPath: [any CodingKey] { encoder.codingPath }
    private var output: JSONOutput { encoder.output }

    init(encoder: JSONValueEncoder, handle: JSONOutput.Handle) {
        self.encoder = encoder
        self.handle = handle
    }

    private mutating func begin() -> Bool {
        count += 1
        return output.beginElement(handle)
    }

    mutating func encodeNil() throws { if begin() { output.writeNull() } }
    mutating func encode(_ value: Bool) throws { if begin() { output.writeBool(value) } }
    mutating func encode(_ value: String) throws { if begin() { output.writeString(value) } }
    mutating func encode(_ value: Double) throws { if begin() { output.writeFloatingPoint(value) } }
    mutating func encode(_ value: Float) throws { if begin() { output.writeFloatingPoint(value) } }
    mutating func encode(_ value: Int) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: Int8) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: Int16) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: Int32) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: Int64) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: UInt8) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: UInt16) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: UInt32) throws { if begin() { output.writeInteger(value) } }
    mutating func encode(_ value: UInt64) throws { if begin() { output.writeInteger(value) } }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if begin() { try encoder.encodeValue(value, key: JSONIndexKey(count - 1)) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        _ = begin()
        let nested = JSONValueEncoder(output: output, parent: encoder, key: JSONIndexKey(count - 1))
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<NestedKey>(encoder: nested, handle: output.open(.object)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        _ = begin()
        let nested = JSONValueEncoder(output: output, parent: encoder, key: JSONIndexKey(count - 1))
        return JSONUnkeyedEncodingContainer(encoder: nested, handle: output.open(.array))
    }

    mutating func superEncoder() -> any Encoder {
        _ = begin()
        _ = output.open(.value)
        return JSONValueEncoder(output: output, parent: encoder, key: JSONIndexKey(count - 1))
    }
}

struct JSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: JSONValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    private var output: JSONOutput { encoder.output }

    mutating func encodeNil() throws { output.writeNull() }
    mutating func encode(_ value: Bool) throws { output.writeBool(value) }
    mutating func encode(_ value: String) throws { output.writeString(value) }
    mutating func encode(_ value: Double) throws { output.writeFloatingPoint(value) }
    mutating func encode(_ value: Float) throws { output.writeFloatingPoint(value) }
    mutating func encode(_ value: Int) throws { output.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { output.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { output.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { output.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { output.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { output.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encoder.encodeValue(value) }
}

/// The coding key of an array element, for coding paths.
struct JSONIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { intValue.map(String.init) ?? "" }

    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// A coding key by name, for coding paths.
struct JSONNameKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
