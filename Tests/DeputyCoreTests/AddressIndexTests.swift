@testable import DeputyCore
import HashTreeCollections
import PropertyBased
import Testing

/// The address index (a persistent map read through a flat copy of an earlier version)
/// against a plain dictionary, through random additions, replacements and removals, with
/// the flat copy rebuilt every few changes.
@Suite("Address index", .timeLimit(.minutes(1)))
struct AddressIndexTests {
    /// A pool of addresses: some long enough to be held outside the entry, one outside ASCII.
    static let pool: [EmailAddress] = (0..<300).map { number in
        switch number % 10 {
        case 0: EmailAddress(trusted: "a-rather-long-local-part-for-overflow-\(number)@example.test")
        case 1: EmailAddress(trusted: "k\u{00E9}vin\(number)@example.test")
        default: EmailAddress(trusted: "user\(number)@example.test")
        }
    }

    static func entry(_ address: EmailAddress, version: Int) -> AddressEntry {
        AddressEntry(
            address: InlineAddress(address), owner: .user(EntityID(UInt64(version))), primary: address, blocked: false, groupSendAs: false,
            ownerLogin: nil, delegations: [], groups: [], groupAddresses: []
        )
    }

    /// Every address of the pool looked up as stored, in capitals and as held inline,
    /// against the model; one expectation per call, naming the first few addresses that
    /// disagree.
    static func expectMatches(_ index: AddressIndex, _ model: [EmailAddress: AddressEntry], step: Int) {
        #expect(index.count == model.count, "step \(step)")
        let wrong = pool.filter { address in
            let expected = model[address]
            return index[AddressKey(address)] !== expected || index[AddressKey(lookup: address.value.uppercased())!] !== expected
                || index.entry(at: InlineAddress(address)) !== expected
        }
        #expect(wrong.isEmpty, "step \(step): \(wrong.prefix(5))")
        #expect(Set(index.entries.map(\.key.text)) == Set(model.keys.map(\.value)), "step \(step)")
    }

    static func map(_ model: [EmailAddress: AddressEntry]) -> TreeDictionary<AddressKey, AddressEntry> {
        TreeDictionary(uniqueKeysWithValues: model.map { (AddressKey($0.key), $0.value) })
    }

    @Test("random changes, with the table rebuilt every few steps, read back as a dictionary holds them")
    func randomChanges() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int(Int32.max)).array(of: 200...600), Gen.int(in: 1...40)) { choices, threshold in
            var index = AddressIndex(rebuildThreshold: threshold)
            var model: [EmailAddress: AddressEntry] = [:]
            var published: [(AddressIndex, [EmailAddress: AddressEntry])] = []
            for (step, choice) in choices.enumerated() {
                let address = Self.pool[choice % Self.pool.count]
                if choice / Self.pool.count % 3 == 0 {
                    index[AddressKey(address)] = nil
                    model[address] = nil
                } else {
                    let entry = Self.entry(address, version: step)
                    index[AddressKey(address)] = entry
                    model[address] = entry
                }
                // Stops the case at its first wrong answer, so that shrinking a failure is quick.
                try #require(index[AddressKey(address)] === model[address], "step \(step)")
                // Earlier versions keep what they held however the index changes after them.
                if step % 50 == 0 { published.append((index, model)) }
            }
            Self.expectMatches(index, model, step: choices.count)
            for (old, oldModel) in published { Self.expectMatches(old, oldModel, step: -1) }
            // Built at once from the same entries, the index is equal to the one built by changes.
            #expect(AddressIndex(Self.map(model)) == index)
        }
    }

    @Test("a table built at once finds every entry, and not the addresses it lacks")
    func builtAtOnce() {
        let held = Self.pool.enumerated().filter { $0.offset % 3 != 0 }.map(\.element)
        let index = AddressIndex(Self.map(Dictionary(uniqueKeysWithValues: held.map { ($0, Self.entry($0, version: 1)) })))
        #expect(index.count == held.count)
        for (position, address) in Self.pool.enumerated() {
            #expect((index[AddressKey(address)] != nil) == (position % 3 != 0), "\(address)")
            #expect(index.entry(at: InlineAddress(address)) === index[AddressKey(address)], "\(address)")
        }
        #expect(AddressIndex()[AddressKey(Self.pool[0])] == nil)
    }

    @Test("an index with a change differs from one without it")
    func inequality() {
        let entries = Self.map(Dictionary(uniqueKeysWithValues: Self.pool.map { ($0, Self.entry($0, version: 1)) }))
        var changed = AddressIndex(entries)
        #expect(changed == AddressIndex(entries))
        changed[AddressKey(Self.pool[5])] = Self.entry(Self.pool[5], version: 2)
        #expect(changed != AddressIndex(entries))
        changed[AddressKey(Self.pool[5])] = nil
        #expect(changed != AddressIndex(entries))
    }

    @Test("one address changed over and over: every version answers its own entry, and dropping a long history is safe")
    func oneAddressOverAndOver() {
        let address = Self.pool[7]
        var index = AddressIndex(Self.map([:]), rebuildThreshold: 50_000)
        var versions: [(AddressIndex, AddressEntry)] = []
        for version in 0..<150_000 {
            let entry = Self.entry(address, version: version)
            index[AddressKey(address)] = entry
            if version % 30_000 == 0 { versions.append((index, entry)) }
        }
        #expect(index[AddressKey(address)]?.owner == .user(EntityID(149_999)))
        for (old, entry) in versions { #expect(old[AddressKey(address)] === entry) }
        // Up to 50,000 changes pile up between two updates of the table, in a list shared
        // by the versions kept above; dropping them all must leave a usable index.
        versions = []
        index = AddressIndex()
        #expect(index.count == 0)
    }
    @Test("every way of hashing an address gives one digest: stored, looked up by string in any case, and probed from bytes")
    func digestsAgree() {
        // SplitMix64: the same texts every run.
        var state: UInt64 = 0xD16E57
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+@[]`{~".utf8)
        var digests = Set<UInt64>()
        var texts = Set<String>()
        // Every length an address may have, and each length's padding of the last word.
        for length in 1...EmailAddress.maximumLength {
            for _ in 0..<4 {
                let bytes = (0..<length).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
                let text = String(decoding: bytes, as: UTF8.self)
                let lowercase = EmailAddress(trusted: text.lowercased())
                let stored = AddressKey(lowercase).digest
                #expect(AddressKey(lookup: text)?.digest == stored, "\(text)")
                // Folding is what makes them agree: the text's own bytes, unfolded, hash
                // differently whenever it holds a capital.
                let unfolded = bytes.withUnsafeBufferPointer { AddressKey.digest($0, folding: false) }
                #expect((unfolded == stored) == (text == lowercase.value), "\(text)")
                let probed = bytes.withUnsafeBufferPointer { InlineAddress(foldingASCII: $0) }
                #expect(probed.digest == stored, "\(text)")
                #expect(probed == InlineAddress(lowercase), "\(text)")
                #expect(bytes.withUnsafeBufferPointer { AddressKey.digest($0, folding: true) } == stored)
                if texts.insert(lowercase.value).inserted { digests.insert(stored) }
            }
        }
        #expect(digests.count == texts.count, "distinct addresses, distinct digests")
        // Folding leaves every byte that is not an ASCII capital as it is.
        for byte in UInt8.min...UInt8.max {
            let word = UInt64(byte) &* 0x0101_0101_0101_0101
            #expect(AddressKey.foldedWord(word) == UInt64(AddressKey.folded(byte)) &* 0x0101_0101_0101_0101, "\(byte)")
        }
        // Outside ASCII, a stored address and a lookup by string still agree.
        #expect(AddressKey(lookup: "K\u{00C9}VIN@EXAMPLE.TEST")?.digest == AddressKey(EmailAddress(trusted: "k\u{00E9}vin@example.test")).digest)
    }

    @Test("a lookahead hashes addresses as lookups do, and its hints name the entries the lookups find")
    func lookahead() {
        let ascii = Self.pool.filter { $0.value.utf8.allSatisfy { $0 < 0x80 } }
        var lookahead = AddressLookahead()
        for address in Self.pool.prefix(20) {
            var text = address.value.uppercased()
            text.withUTF8 { lookahead.add(UnsafeRawBufferPointer($0)) }
        }
        // Outside ASCII left out; in any case, the digest of the lookup key.
        let expected = Self.pool.prefix(20).filter { ascii.contains($0) }.map { AddressKey(lookup: $0.value.uppercased())!.digest }
        #expect(lookahead.digests == expected)
        for address in ascii.prefix(40) {
            var text = address.value
            text.withUTF8 { lookahead.add(UnsafeRawBufferPointer($0)) }
        }
        #expect(lookahead.isFull && lookahead.count == AddressLookahead.capacity, "the rest are left out")
        lookahead.removeAll()
        #expect(lookahead.isEmpty)

        let held = Self.pool.enumerated().filter { $0.offset % 3 != 0 }.map(\.element)
        let map = Self.map(Dictionary(uniqueKeysWithValues: held.map { ($0, Self.entry($0, version: 1)) }))
        let table = AddressTable(map)
        for address in Self.pool {
            let key = AddressKey(address)
            #expect(table.prefetchEntry(of: key.digest)?.takeUnretainedValue() === table.entry(for: key), "\(address)")
        }
        // An address changed since the table was made is left to the map.
        var index = AddressIndex(map)
        let digests = held.prefix(10).map { AddressKey($0).digest } + Self.pool.prefix(1).map { AddressKey($0).digest }
        #expect(index.prefetch(digests) == 10)
        index[AddressKey(held[0])] = nil
        #expect(index.prefetch(digests) == 9)
    }
}
