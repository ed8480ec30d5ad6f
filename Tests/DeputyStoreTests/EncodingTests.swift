import DeputyCore
@testable import DeputyStore
import Foundation
import Testing

@Suite("Encodings")
struct EncodingTests {
    @Test("CRC-32C gives the standard check value and continues across pieces")
    func crc32c() {
        let bytes = Array("123456789".utf8)
        #expect(CRC32C.checksum(bytes, 0..<9) == 0xE306_9283)
        #expect(CRC32C.checksum(bytes, 4..<9, continuing: CRC32C.checksum(bytes, 0..<4)) == 0xE306_9283)
        let long = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(CRC32C.checksum(long, 0..<1_000) == CRC32C.checksum(long, 500..<1_000, continuing: CRC32C.checksum(long, 0..<500)))
        #expect(CRC32C.checksum([], 0..<0) == 0)
    }

    @Test("a frame reads back, and any flipped byte is caught")
    func frames() {
        let body = Array(#"{"sequence":7}"#.utf8)
        var bytes: [UInt8] = []
        JournalFrame.append(body: body, sequence: 7, batchStart: 6, to: &bytes)
        guard case .frame(let frame) = JournalFrame.parse(bytes, at: 0) else {
            Issue.record("the frame does not parse")
            return
        }
        #expect(frame.sequence == 7)
        #expect(frame.batchStart == 6)
        #expect(Array(bytes[frame.body]) == body)
        #expect(frame.end == bytes.count)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            guard case .damaged = JournalFrame.parse(damaged, at: 0) else {
                Issue.record("a flip at byte \(index) went unnoticed")
                continue
            }
        }
    }

    @Test("timestamps round-trip exactly across a wide range of dates")
    func timestamps() {
        var random = SimulatedRandom(seed: 42)
        for _ in 0..<10_000 {
            let interval = Double(Int64(bitPattern: random.next()) % 4_000_000_000) + Double(random.next() % 1_000_000_007) / 1_000_000_007
            let date = Date(timeIntervalSinceReferenceDate: interval)
            let text = StorageTimestamp.format(date)
            #expect(text.flatMap(StorageTimestamp.parse) == date, "\(interval) as \(text ?? "nil")")
        }
        #expect(StorageTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(StorageTimestamp.format(Date(timeIntervalSince1970: 951_782_400.25)) == "2000-02-29T00:00:00.25Z")
        #expect(StorageTimestamp.parse("2000-02-29T01:00:00+01:00") == Date(timeIntervalSince1970: 951_782_400))
        #expect(StorageTimestamp.parse("2001-02-29T00:00:00Z") == nil)
        #expect(StorageTimestamp.parse("2026-11-23T10:15:00") == nil)
        #expect(StorageTimestamp.parse("2026-11-23T10:15:00.Z") == nil)
    }

    @Test("the JSON tape finds the first syntax error")
    func tapeSyntax() {
        func error(_ text: String) -> Int? {
            do {
                _ = try JSONTape(Array(text.utf8))
                return nil
            } catch {
                return error.offset
            }
        }
        #expect(error(#"{"a": [1, 2.5e3, "x\u00e9", true, null], "b": {}}"#) == nil)
        #expect(error(#"{"a": [1, 2,]}"#) == 12)
        #expect(error(#"{"a" 1}"#) == 5)
        #expect(error(#"{"a": 01}"#) == 7)
        #expect(error(#"{"a": "b"} x"#) == 11)
        #expect(error(#"{"a": ["#) == 7)
        #expect(error("[\"\u{1}\"]") == 2)
        #expect(error("[\"\u{FF}\"]") == nil)
        #expect((try? JSONTape([UInt8(ascii: "\""), 0xC0, 0x80, UInt8(ascii: "\"")])) == nil)
    }

    @Test("the encoder writes what Foundation's JSONEncoder writes, and the decoder reads it back")
    func matchesFoundation() async throws {
        let store = try await RoundTripTests.mixedStore(SimulatedFileSystem())
        var contents = store.directory.contents
        // Groups hold sets, which this encoder sorts and Foundation writes in hash order.
        contents.groups = []
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        foundation.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(StorageTimestamp.format(date)!)
        }
        let ours = try StorageJSONEncoder().encode(contents)
        #expect(ours == Array(try foundation.encode(contents)))
        #expect(try StorageJSONDecoder().decode(DirectoryContents.self, from: ours) == contents)

        let tricky = ["plain", "quote \" and \\ backslash", "tab\tnew\nline\u{1}", "snowman ☃ and 🎉", "/slash/"]
        let encoded = try StorageJSONEncoder().encode(tricky)
        #expect(encoded == Array(try foundation.encode(tricky)))
        #expect(try StorageJSONDecoder().decode([String].self, from: encoded) == tricky)
        #expect(try StorageJSONDecoder().decode([String].self, from: Array(#"["\u00e9\ud83c\udf89\/"]"#.utf8)) == ["é🎉/"])
    }

    @Test("a delegated send's details round-trip, and a record journalled before they existed still reads")
    func delegatedSendDetails() throws {
        let login = EmailAddress("bob@acme.test")!, sender = EmailAddress("alice@acme.test")!
        let detailed = Command.recordDelegatedSend(
            login: login, sender: sender, delegation: EntityID(7),
            details: DelegatedSendDetails(permission: .sendOnBehalf, queueID: "4QX1", messageID: "<m1 @x>", path: "milter")
        )
        #expect(try StorageJSONDecoder().decode(Command.self, from: try StorageJSONEncoder().encode(detailed)) == detailed)
        // Text from the mail is kept without white space or control characters.
        if case .recordDelegatedSend(_, _, _, let details?) = detailed { #expect(details.messageID == "<m1@x>") }
        let old = #"{"recordDelegatedSend":{"delegation":7,"login":"bob@acme.test","sender":"alice@acme.test"}}"#
        #expect(try StorageJSONDecoder().decode(Command.self, from: Array(old.utf8)) == .recordDelegatedSend(login: login, sender: sender, delegation: EntityID(7)))
    }

    @Test("a decoding failure names the byte offset and the coding path of the bad value")
    func decodingFailureLocation() {
        let text = #"{"a": [{"address": "x@y.test"}, {"address": "not an address"}]}"#
        struct Entry: Decodable { let address: DeputyCore.EmailAddress }
        struct Document: Decodable { let a: [Entry] }
        do {
            _ = try StorageJSONDecoder().decode(Document.self, from: Array(text.utf8))
            Issue.record("an invalid address was accepted")
        } catch {
            #expect(error.offset == Array(text.utf8).firstRange(of: Array(#""not an"#.utf8))?.lowerBound)
            #expect(error.reason.hasPrefix("a[1].address: "))
        }
    }

    @Test("sets are written sorted, whatever order they iterate in")
    func sortedSets() throws {
        let roles = CustomAdminRole.allCases
        var small = Set<String>()
        var large = Set<String>(minimumCapacity: 4_096)
        for index in 0..<50 {
            small.insert("member\(index)")
            large.insert("member\(49 - index)")
        }
        let encoded = try StorageJSONEncoder().encode(small)
        #expect(encoded == (try StorageJSONEncoder().encode(large)))
        let decodedStrings = try StorageJSONDecoder().decode([String].self, from: encoded)
        #expect(decodedStrings == decodedStrings.sorted())
        #expect(Set(decodedStrings) == small)
        #expect(try StorageJSONDecoder().decode(Set<String>.self, from: encoded) == small)
        #expect(try StorageJSONEncoder().encode(Set(roles)) == (try StorageJSONEncoder().encode(Set(roles.reversed()))))
    }
}
