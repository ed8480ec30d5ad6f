import DeputyCore
import Foundation

/// The document a tape reader gives up on: the caller decodes it through `Codable`, which
/// either reads it all the same or reports the fault with its offset and path.
struct TapeUnreadable: Error {}

/// Reading values straight from a ``JSONTape`` in the plain shape ``StorageJSONEncoder``
/// writes (every key once, nothing unknown, enums as `{"case":{"_0":value}}`), building the
/// values the `Codable` conformances would. Anything else throws ``TapeUnreadable``, so a
/// reader built on these decides nothing about what is valid: `Codable` does. Shared by
/// ``SnapshotListReader`` and ``TapeCommandReader``.
protocol TapeReading {
    var tape: JSONTape { get }
}

extension TapeReading {
    // MARK: - Scalars

    func entity(_ index: Int) throws(TapeUnreadable) -> EntityID {
        EntityID(try required(tape.integer(index, as: UInt64.self)))
    }

    func address(_ index: Int) throws(TapeUnreadable) -> EmailAddress {
        try required(EmailAddress(string(index)))
    }

    func string(_ index: Int) throws(TapeUnreadable) -> String {
        guard tape.tokens[index].kind == .string else { throw TapeUnreadable() }
        return tape.string(index)
    }

    func bool(_ index: Int) throws(TapeUnreadable) -> Bool {
        switch tape.tokens[index].kind {
        case .true: true
        case .false: false
        default: throw TapeUnreadable()
        }
    }

    /// A date from the string's bytes, without making a `String` unless it has escapes.
    func date(_ index: Int) throws(TapeUnreadable) -> Date {
        let token = tape.tokens[index]
        guard token.kind == .string else { throw TapeUnreadable() }
        if token.escaped { return try required(StorageTimestamp.parse(tape.string(index))) }
        return try required(tape.bytes.withUnsafeBufferPointer { all in
            StorageTimestamp.parse(bytes: UnsafeBufferPointer(rebasing: all[Int(token.start)..<Int(token.end)]))
        })
    }

    func raw<T: RawRepresentable<String>>(_ type: T.Type, _ index: Int) throws(TapeUnreadable) -> T {
        try required(T(rawValue: string(index)))
    }

    /// `nil` for null, else what `read` reads: a member `decodeIfPresent` decodes.
    func optional<T>(_ index: Int, _ read: (Int) throws(TapeUnreadable) -> T) throws(TapeUnreadable) -> T? {
        tape.tokens[index].kind == .null ? nil : try read(index)
    }

    func array<T>(_ index: Int, _ read: (Int) throws(TapeUnreadable) -> T) throws(TapeUnreadable) -> [T] {
        let token = tape.tokens[index]
        guard token.kind == .array else { throw TapeUnreadable() }
        var values: [T] = []
        values.reserveCapacity(Int(token.count))
        var element = index + 1
        while element < Int(token.end) {
            values.append(try read(element))
            element = tape.next(after: element)
        }
        return values
    }

    func required<T>(_ value: T?) throws(TapeUnreadable) -> T {
        guard let value else { throw TapeUnreadable() }
        return value
    }

    // MARK: - Objects and enums

    /// Calls `body` with the key and value token of each member of the object at `index`.
    func members(of index: Int, _ body: (_ key: Int, _ value: Int) throws(TapeUnreadable) -> Void) throws(TapeUnreadable) {
        let token = tape.tokens[index]
        guard token.kind == .object else { throw TapeUnreadable() }
        var key = index + 1
        while key < Int(token.end) {
            try body(key, key + 1)
            key = tape.next(after: key + 1)
        }
    }

    /// Which of `names` the key at `index` is; a key not among them, or seen before, is
    /// left to `Codable`.
    func field(_ index: Int, _ names: [String], _ seen: inout TapeFieldSet) throws(TapeUnreadable) -> Int {
        guard let field = names.firstIndex(where: { tape.string(index, equals: $0) }), seen.insert(field) else { throw TapeUnreadable() }
        return field
    }

    /// An enum value as `Codable` synthesises it, `{"case":{...}}`: the case's number in
    /// `names` and the token of the object holding its associated values.
    func enumCase(_ index: Int, _ names: [String]) throws(TapeUnreadable) -> (name: Int, values: Int) {
        let outer = tape.tokens[index]
        guard outer.kind == .object, outer.count == 1, tape.tokens[index + 2].kind == .object,
            let name = names.firstIndex(where: { tape.string(index + 1, equals: $0) })
        else { throw TapeUnreadable() }
        return (name, index + 2)
    }

    /// The case of an enum value `{"case":{"_0":payload}}`, or `{"case":{}}` for a case
    /// without one, and the payload's token.
    func enumPayload(_ index: Int, _ names: [String]) throws(TapeUnreadable) -> (name: Int, payload: Int?) {
        let (name, values) = try enumCase(index, names)
        switch tape.tokens[values].count {
        case 0: return (name, nil)
        case 1:
            guard tape.string(values + 1, equals: "_0") else { throw TapeUnreadable() }
            return (name, values + 2)
        default: throw TapeUnreadable()
        }
    }

    func principal(_ index: Int) throws(TapeUnreadable) -> Principal {
        switch try enumPayload(index, principalCases) {
        case (0, let payload?): return .user(try entity(payload))
        case (1, let payload?): return .service(try entity(payload))
        case (2, nil): return .system
        default: throw TapeUnreadable()
        }
    }
}

/// The cases of ``DeputyCore/Principal``, made once.
private let principalCases = ["user", "service", "system"]

/// The fields of one object seen so far.
struct TapeFieldSet {
    private var bits: UInt32 = 0

    /// Adds `field`; false when it was already there.
    mutating func insert(_ field: Int) -> Bool {
        let bit: UInt32 = 1 << UInt32(field)
        defer { bits |= bit }
        return bits & bit == 0
    }
}
