import Foundation

/// Decodes any `Decodable` value from JSON, reading dates as RFC 3339 strings; the
/// counterpart of ``StorageJSONEncoder``, and for the same reason (speed) not Foundation's.
///
/// A failure carries the byte offset of the value that could not be decoded, so that an
/// operator can find it in a snapshot of a hundred megabytes.
struct StorageJSONDecoder {
    /// Why a document could not be decoded, and where.
    struct Failure: Error, CustomStringConvertible {
        /// The byte offset of the value in question.
        let offset: Int
        let reason: String
        var description: String { "at byte \(offset): \(reason)" }
    }

    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(Failure) -> T {
        try decode(type, from: bytes, shortcut: { _ in nil })
    }

    /// Decodes `type` from `bytes`, first through `shortcut`, which reads the parsed
    /// document's tokens itself and returns `nil` for any document it does not handle; those
    /// are decoded through `Codable`.
    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], shortcut: (JSONTape) -> T?) throws(Failure) -> T {
        let tape: JSONTape
        do {
            tape = try JSONTape(bytes)
        } catch {
            throw Failure(offset: error.offset, reason: error.reason)
        }
        if let value = shortcut(tape) { return value }
        do {
            return try JSONValueDecoder(document: JSONDocument(tape: tape), index: 0).decodeValue(type)
        } catch let error as LocatedError {
            throw Failure(offset: error.offset, reason: Self.describe(error.underlying))
        } catch {
            throw Failure(offset: 0, reason: Self.describe(error))
        }
    }

    /// A decoding error thrown at a known token.
    struct LocatedError: Error {
        let offset: Int
        let underlying: any Error
    }

    /// A decoding error as a sentence with its coding path, such as
    /// `directory.users[3].address: not a valid mail address`.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .dataCorrupted(let context):
            return located(context.codingPath, context.debugDescription)
        case .keyNotFound(let key, let context):
            return located(context.codingPath, "the key \"\(key.stringValue)\" is missing")
        case .typeMismatch(let type, let context):
            return located(context.codingPath, "expected \(type): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return located(context.codingPath, "expected \(type), found null")
        @unknown default:
            return "\(error)"
        }
    }

    private static func located(_ path: [any CodingKey], _ reason: String) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue, key.stringValue == String(index) || key is JSONIndexKey {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? reason : "\(text): \(reason)"
    }
}

/// A parsed document, shared by reference so that the many decoders of one decode do not
/// each retain its arrays.
final class JSONDocument: Sendable {
    let tape: JSONTape

    init(tape: JSONTape) {
        self.tape = tape
    }
}

/// The `Decoder` for the value at one token.
final class JSONValueDecoder: Decoder, Sendable {
    let document: JSONDocument
    let index: Int
    private let parent: JSONValueDecoder?
    private let key: (any CodingKey)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(document: JSONDocument, index: Int, parent: JSONValueDecoder? = nil, key: (any CodingKey)? = nil) {
        self.document = document
        self.index = index
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var decoder: JSONValueDecoder? = self
        while let current = decoder {
            if let key = current.key { path.append(key) }
            decoder = current.parent
        }
        return path.reversed()
    }

    var token: JSONTape.Token { document.tape.tokens[index] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard token.kind == .object else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard token.kind == .array else { throw mismatch([Any].self) }
        return JSONUnkeyedDecodingContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        JSONSingleValueDecodingContainer(decoder: self)
    }

    /// The decoder of the value at `index`, a child of this one at `key`.
    func child(_ index: Int, key: any CodingKey) -> JSONValueDecoder {
        JSONValueDecoder(document: document, index: index, parent: self, key: key)
    }

    func mismatch(_ type: Any.Type) -> StorageJSONDecoder.LocatedError {
        let found: String
        switch token.kind {
        case .object: found = "an object"
        case .array: found = "an array"
        case .string: found = "a string"
        case .number: found = "a number"
        case .true, .false: found = "a boolean"
        case .null: found = "null"
        }
        let error = DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "found \(found)"))
        return StorageJSONDecoder.LocatedError(offset: document.tape.offset(of: index), underlying: error)
    }

    // MARK: - Values

    /// Decodes this decoder's value as `type`, locating any failure at its token.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == String.self { return try decodeString() as! T }
        if T.self == Date.self { return try decodeDate() as! T }
        if T.self == UInt64.self { return try decodeInteger(UInt64.self) as! T }
        if T.self == Int.self { return try decodeInteger(Int.self) as! T }
        if T.self == Bool.self { return try decodeBool() as! T }
        do {
            return try T(from: self)
        } catch let error as StorageJSONDecoder.LocatedError {
            throw error
        } catch {
            throw StorageJSONDecoder.LocatedError(offset: document.tape.offset(of: index), underlying: error)
        }
    }

    func decodeNil() -> Bool {
        token.kind == .null
    }

    func decodeBool() throws -> Bool {
        switch token.kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(Bool.self)
        }
    }

    func decodeString() throws -> String {
        guard token.kind == .string else { throw mismatch(String.self) }
        return document.tape.string(index)
    }

    func decodeDate() throws -> Date {
        let text = try decodeString()
        guard let date = StorageTimestamp.parse(text) else {
            throw StorageJSONDecoder.LocatedError(
                offset: document.tape.offset(of: index),
                underlying: DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "not an RFC 3339 timestamp"))
            )
        }
        return date
    }

    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard token.kind == .number else { throw mismatch(T.self) }
        guard let value = document.tape.integer(index, as: T.self) else { throw notRepresentable(T.self) }
        return value
    }

    /// The scalar at `index` when `T` is one of the common scalar types and the token
    /// holds a valid one, decoded without a decoder of its own (a decoder is made only to
    /// report a failure); `nil` otherwise.
    func fastScalar<T>(_ type: T.Type, at index: Int) -> T? {
        let tape = document.tape
        if T.self == String.self {
            guard tape.tokens[index].kind == .string else { return nil }
            return unsafeBitCast(tape.string(index), to: T.self)
        }
        if T.self == Date.self {
            guard tape.tokens[index].kind == .string, let date = StorageTimestamp.parse(tape.string(index)) else { return nil }
            return unsafeBitCast(date, to: T.self)
        }
        if T.self == UInt64.self { return tape.integer(index, as: UInt64.self).map { unsafeBitCast($0, to: T.self) } }
        if T.self == Int.self { return tape.integer(index, as: Int.self).map { unsafeBitCast($0, to: T.self) } }
        if T.self == Bool.self {
            switch tape.tokens[index].kind {
            case .true: return unsafeBitCast(true, to: T.self)
            case .false: return unsafeBitCast(false, to: T.self)
            default: return nil
            }
        }
        return nil
    }

    func decodeFloatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type) throws -> T {
        guard token.kind == .number,
            let value = T(String(decoding: document.tape.bytes[Int(token.start)..<Int(token.end)], as: UTF8.self))
        else { throw mismatch(T.self) }
        return value
    }

    private func notRepresentable(_ type: Any.Type) -> StorageJSONDecoder.LocatedError {
        StorageJSONDecoder.LocatedError(
            offset: document.tape.offset(of: index),
            underlying: DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "the number does not fit \(type)"))
        )
    }
}
