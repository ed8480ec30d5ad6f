import DeputyCore
import Foundation

/// Encodes and decodes snapshot documents, the long lists on every core.
///
/// Almost all of a snapshot is four lists: users, groups, delegations and the audit log.
/// Their elements are encoded (and decoded) in chunks in parallel, then put together with
/// the rest, which is encoded the ordinary way; the bytes are the same as a single
/// ``StorageJSONEncoder`` pass would give (a test checks it). Should `DirectoryContents`
/// ever be encoded under keys this codec does not know, both directions fall back to one
/// plain pass, so nothing can be left out.
enum SnapshotCodec {
    /// How deep snapshots are spread over lines: the document's and the directory's
    /// members, and each element of the directory's lists (a user, a group, a delegation,
    /// an audit record), get a line each; everything deeper is compact. So two snapshots
    /// diff entry by entry, at a fraction of the size of fully indented JSON.
    static let expandedDepth = 3
    /// Elements per chunk: enough to keep the per-chunk overhead small.
    private static let chunkSize = 4_096
    /// The keys of `DirectoryContents` this codec knows; the lists are the split ones.
    private static let listKeys = ["auditLog", "delegations", "groups", "users"]
    private static let knownKeys: Set<String> = [
        "auditLog", "delegations", "groups", "users", "organization", "services", "policies",
        "spamSettings", "superAdministrator", "nextIdentity", "revision", "secondFactors",
    ]

    // MARK: - Encoding

    /// The document's bytes. `parallel: false` encodes on the calling thread alone: the
    /// parallel chunks run on the threads Swift's tasks also run on, and a background save
    /// must not take them all. `extraCapacity` leaves room for bytes the caller appends.
    ///
    /// The lists are encoded in chunks, then the document is put together once, in a buffer
    /// of its exact size: a large directory's snapshot is tens of megabytes, and growing it
    /// piece by piece copied it several times over, into memory the kernel had to provide
    /// afresh each time.
    static func encode(_ document: SnapshotDocument, parallel: Bool = true, extraCapacity: Int = 0) throws -> [UInt8] {
        var skeleton = document
        skeleton.directory.users = []
        skeleton.directory.groups = []
        skeleton.directory.delegations = []
        skeleton.directory.auditLog = []
        let bytes = try StorageJSONEncoder(expandedDepth: expandedDepth).encode(skeleton)

        let contents = document.directory
        let lists: [(key: String, count: Int)] = [
            ("auditLog", contents.auditLog.count), ("delegations", contents.delegations.count),
            ("groups", contents.groups.count), ("users", contents.users.count),
        ]
        // Where each empty list sits in the skeleton, as `"users": []` at depth 2: the `[]`.
        var holes: [(list: Int, range: Range<Int>)] = []
        for (list, (key, _)) in lists.enumerated() {
            let pattern = Array("\n    \"\(key)\": []".utf8)
            guard let range = bytes.firstRange(of: pattern), bytes[range.upperBound...].firstRange(of: pattern) == nil else {
                var whole = try StorageJSONEncoder(expandedDepth: expandedDepth).encode(document)
                whole.reserveCapacity(whole.count + extraCapacity)
                return whole
            }
            holes.append((list, (range.upperBound - 2)..<range.upperBound))
        }
        holes.sort { $0.range.lowerBound < $1.range.lowerBound }

        let jobs = lists.enumerated().flatMap { list, entry in
            stride(from: 0, to: entry.count, by: chunkSize).map { (list: list, range: $0..<min($0 + chunkSize, entry.count)) }
        }
        let encodeJob: @Sendable ((list: Int, range: Range<Int>)) throws -> [UInt8] = { job in
            switch job.list {
            case 0: try writeChunk(contents.auditLog, job.range) { $0.write($1) } ?? encodeChunk(contents.auditLog, job.range)
            case 1: try writeChunk(contents.delegations, job.range) { $0.write($1) } ?? encodeChunk(contents.delegations, job.range)
            case 2: try writeChunk(contents.groups, job.range) { $0.write($1) } ?? encodeChunk(contents.groups, job.range)
            default: try writeChunk(contents.users, job.range) { $0.write($1) } ?? encodeChunk(contents.users, job.range)
            }
        }
        let chunks = parallel ? try Parallel.map(jobs, encodeJob) : try jobs.map(encodeJob)

        // A non-empty list's `[]` becomes `[`, its chunks, then the list's closing line.
        let open: [UInt8] = [UInt8(ascii: "[")]
        let close = Array("\n    ]".utf8)
        var size = bytes.count + extraCapacity
        for chunk in chunks { size += chunk.count }
        for hole in holes where lists[hole.list].count > 0 { size += open.count + close.count - hole.range.count }
        var output: [UInt8] = []
        output.reserveCapacity(size)
        var copied = 0
        for hole in holes where lists[hole.list].count > 0 {
            output.append(contentsOf: bytes[copied..<hole.range.lowerBound])
            output.append(contentsOf: open)
            for (job, chunk) in zip(jobs, chunks) where job.list == hole.list { output.append(contentsOf: chunk) }
            output.append(contentsOf: close)
            copied = hole.range.upperBound
        }
        output.append(contentsOf: bytes[copied...])
        return output
    }

    /// Elements `range` of `list` written by ``SnapshotListWriter``, each after its
    /// separator; `nil` when a value can't be written (a date out of range), for `Codable`
    /// to report.
    private static func writeChunk<T>(_ list: [T], _ range: Range<Int>, _ write: (SnapshotListWriter, T) -> Void) -> [UInt8]? {
        let output = JSONOutput(expandedDepth: 0, capacity: range.count * 256)
        let writer = SnapshotListWriter(output: output)
        for index in range {
            output.bytes.append(contentsOf: index == 0 ? Array("\n      ".utf8) : Array(",\n      ".utf8))
            write(writer, list[index])
        }
        return output.failure == nil ? output.bytes : nil
    }

    /// Elements `range` of `list`, each after its separator, as they appear at depth 3.
    private static func encodeChunk<T: Encodable>(_ list: [T], _ range: Range<Int>) throws -> [UInt8] {
        let output = JSONOutput(expandedDepth: 0, capacity: range.count * 256)
        let encoder = JSONValueEncoder(output: output)
        for index in range {
            output.bytes.append(contentsOf: index == 0 ? Array("\n      ".utf8) : Array(",\n      ".utf8))
            try encoder.encodeValue(list[index], key: JSONIndexKey(index))
            output.close(downTo: 0)
        }
        if let failure = output.failure { throw StorageJSONEncoder.Failure(description: failure) }
        return output.bytes
    }

    // MARK: - Decoding

    /// The document's fields besides the directory.
    private struct Envelope: Decodable {
        var format: String
        var version: Int
        var sequence: UInt64
        var savedAt: Date
    }

    /// The directory's fields besides the four lists.
    private struct Remainder: Decodable {
        var organization: Organization?
        var services: [ServiceAccount]
        var policies: [EmailPolicy]
        var spamSettings: SpamSettings
        var secondFactors: [SecondFactor]?
        var superAdministrator: EntityID?
        var nextIdentity: UInt64
        var revision: UInt64
    }

    static func decode(_ bytes: [UInt8]) throws(StorageJSONDecoder.Failure) -> SnapshotDocument {
        let tape: JSONTape
        do {
            tape = try JSONTape(bytes)
        } catch {
            throw StorageJSONDecoder.Failure(offset: error.offset, reason: error.reason)
        }
        let document = JSONDocument(tape: tape)
        guard let directory = member("directory", of: 0, in: tape), tape.tokens[directory].kind == .object,
            members(of: directory, in: tape).allSatisfy({ knownKeys.contains(tape.string($0.key)) })
        else {
            return try StorageJSONDecoder().decode(SnapshotDocument.self, from: bytes)
        }
        var elementLists: [[Int]] = []
        for key in listKeys {
            guard let list = member(key, of: directory, in: tape), tape.tokens[list].kind == .array else {
                return try StorageJSONDecoder().decode(SnapshotDocument.self, from: bytes)
            }
            var elements: [Int] = []
            var index = list + 1
            while index < Int(tape.tokens[list].end) {
                elements.append(index)
                index = tape.next(after: index)
            }
            elementLists.append(elements)
        }
        do {
            let root = JSONValueDecoder(document: document, index: 0)
            let envelope = try root.decodeValue(Envelope.self)
            let directoryDecoder = JSONValueDecoder(document: document, index: directory, parent: root, key: JSONNameKey("directory"))
            let remainder = try directoryDecoder.decodeValue(Remainder.self)
            let listTokens = listKeys.map { member($0, of: directory, in: tape)! }
            let jobs = elementLists.enumerated().flatMap { list, elements in
                stride(from: 0, to: elements.count, by: chunkSize).map { (list: list, range: $0..<min($0 + chunkSize, elements.count)) }
            }
            let elements = elementLists
            let chunks = try Parallel.map(jobs) { job -> DecodedChunk in
                let tokens = elements[job.list][job.range]
                if let chunk = readChunk(list: job.list, tokens, in: tape) { return chunk }
                // Decoders of its own for each chunk: sharing them between threads would
                // make every retain and release of them contend between cores.
                let document = JSONDocument(tape: tape)
                let root = JSONValueDecoder(document: document, index: 0)
                let directoryDecoder = JSONValueDecoder(document: document, index: directory, parent: root, key: JSONNameKey("directory"))
                let list = JSONValueDecoder(document: document, index: listTokens[job.list], parent: directoryDecoder, key: JSONNameKey(listKeys[job.list]))
                switch job.list {
                case 0: return .auditLog(try decodeChunk(AuditRecord.self, tokens, in: list))
                case 1: return .delegations(try decodeChunk(Delegation.self, tokens, in: list))
                case 2: return .groups(try decodeChunk(Group.self, tokens, in: list))
                default: return .users(try decodeChunk(User.self, tokens, in: list))
                }
            }
            var auditLog: [AuditRecord] = [], delegations: [Delegation] = [], groups: [Group] = [], users: [User] = []
            for chunk in chunks {
                switch chunk {
                case .auditLog(let part): auditLog.append(contentsOf: part)
                case .delegations(let part): delegations.append(contentsOf: part)
                case .groups(let part): groups.append(contentsOf: part)
                case .users(let part): users.append(contentsOf: part)
                }
            }
            let contents = DirectoryContents(
                organization: remainder.organization, users: users, groups: groups, services: remainder.services,
                delegations: delegations, policies: remainder.policies, spamSettings: remainder.spamSettings,
                auditLog: auditLog, superAdministrator: remainder.superAdministrator,
                nextIdentity: remainder.nextIdentity, revision: remainder.revision, secondFactors: remainder.secondFactors
            )
            return SnapshotDocument(format: envelope.format, version: envelope.version, sequence: envelope.sequence, savedAt: envelope.savedAt, directory: contents)
        } catch let error as StorageJSONDecoder.LocatedError {
            throw StorageJSONDecoder.Failure(offset: error.offset, reason: StorageJSONDecoder.describe(error.underlying))
        } catch {
            throw StorageJSONDecoder.Failure(offset: 0, reason: StorageJSONDecoder.describe(error))
        }
    }

    private enum DecodedChunk: Sendable {
        case auditLog([AuditRecord])
        case delegations([Delegation])
        case groups([Group])
        case users([User])
    }

    /// The entries at `tokens` of list `list` read by ``SnapshotListReader``, or `nil` when
    /// `Codable` must decode them (anything the reader leaves to it).
    private static func readChunk(list: Int, _ tokens: ArraySlice<Int>, in tape: JSONTape) -> DecodedChunk? {
        let reader = SnapshotListReader(tape: tape)
        do throws(TapeUnreadable) {
            switch list {
            case 1: return .delegations(try tokens.map { token throws(TapeUnreadable) in try reader.delegation(at: token) })
            case 2: return .groups(try tokens.map { token throws(TapeUnreadable) in try reader.group(at: token) })
            case 3: return .users(try tokens.map { token throws(TapeUnreadable) in try reader.user(at: token) })
            default: return .auditLog(try tokens.map { token throws(TapeUnreadable) in try reader.auditRecord(at: token) })
            }
        } catch {
            return nil
        }
    }

    private static func decodeChunk<T: Decodable>(_ type: T.Type, _ tokens: ArraySlice<Int>, in list: JSONValueDecoder) throws -> [T] {
        var values: [T] = []
        values.reserveCapacity(tokens.count)
        for (position, token) in zip(tokens.indices, tokens) {
            values.append(try list.child(token, key: JSONIndexKey(position)).decodeValue(type))
        }
        return values
    }

    /// The token index of the value of `key` in the object at `object`, if present.
    private static func member(_ key: String, of object: Int, in tape: JSONTape) -> Int? {
        members(of: object, in: tape).last { tape.string($0.key, equals: key) }?.value
    }

    private static func members(of object: Int, in tape: JSONTape) -> [(key: Int, value: Int)] {
        var members: [(key: Int, value: Int)] = []
        // A scalar's `end` is a byte offset, not a token index: only an object has members.
        guard tape.tokens[object].kind == .object else { return members }
        var index = object + 1
        while index < Int(tape.tokens[object].end) {
            members.append((index, index + 1))
            index = tape.next(after: index + 1)
        }
        return members
    }
}
