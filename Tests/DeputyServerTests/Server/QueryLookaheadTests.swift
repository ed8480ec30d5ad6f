@testable import DeputyCore
@testable import DeputyServer
import Testing

/// Which addresses of a pipelined line are announced before the lines are answered.
@Suite("Query lookahead")
struct QueryLookaheadTests {
    /// The digests announced for `line`, and those of `addresses` as lookups hash them.
    static func announced(_ line: String) -> [UInt64] {
        var lookahead = AddressLookahead()
        var line = line
        line.withUTF8 { Session.announceAddress(ofQuery: UnsafeRawBufferPointer($0), into: &lookahead) }
        return lookahead.digests
    }

    static func digest(_ address: String) -> UInt64 {
        AddressKey(lookup: address)!.digest
    }

    @Test("a query's arguments with an @, last first, skipping options, in any case")
    func queries() {
        #expect(Self.announced("QUERY SENDAS ann@example.org Sales@Example.org") == [Self.digest("sales@example.org"), Self.digest("ann@example.org")])
        #expect(Self.announced("QUERY ACCESS Ann@example.org boss@example.org revision=3") == [Self.digest("boss@example.org"), Self.digest("ann@example.org")])
        #expect(Self.announced("query delegates boss@example.org revision=12\r") == [Self.digest("boss@example.org")])
        #expect(Self.announced("Query Holders team@example.org permission=read") == [Self.digest("team@example.org")])
        #expect(Self.announced("QUERY  MAILBOXES   ann@example.org  ") == [Self.digest("ann@example.org")])
    }

    @Test("other lines, and arguments that are not a bare address, announce nothing")
    func others() {
        #expect(Self.announced("QUERY SPAM").isEmpty)
        #expect(Self.announced("QUERY SEARCH \"(mail=ann@example.org)\"").isEmpty)
        #expect(Self.announced("DELEGATE boss@example.org ann@example.org read").isEmpty)
        #expect(Self.announced("QUERYSENDAS a@b c@d").isEmpty)
        #expect(Self.announced("QUERY").isEmpty)
        #expect(Self.announced("").isEmpty)
        #expect(Self.announced("QUERY SENDERS k\u{00E9}vin@example.org").isEmpty, "outside ASCII: looked up without a hint")
    }
}
