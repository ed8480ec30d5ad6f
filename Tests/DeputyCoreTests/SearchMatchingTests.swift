@testable import DeputyCore
import Testing

/// A scan compares printable ASCII byte by byte with capitals folded; it must answer as the
/// comparison of lowercased characters does, and leave every other text to it.
@Suite("Search filter matching")
struct SearchMatchingTests {
    /// Letters in both cases, a space, a tilde, an accented letter, a carriage return and a
    /// line feed (one character together), and a combining accent.
    static let alphabet: [String] = ["a", "A", "b", "B", "z", "Z", " ", "~", "é", "É", "\r", "\n", "\u{301}", "1"]

    static func text(_ random: inout SplitMix, length: ClosedRange<Int>) -> String {
        let count = length.lowerBound + Int(random.next() % UInt64(length.count))
        return (0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
    }

    @Test("substrings and equalities: byte by byte where the text is printable ASCII, as the comparison of characters everywhere")
    func fastPathAgrees() {
        var random = SplitMix(seed: 20261207)
        var printable = 0
        for round in 0..<40_000 {
            // Mostly printable ASCII, as names are; every fifth value anything.
            let anything = round % 5 == 0
            let value = Self.text(&random, length: 0...12).filter { anything || $0.isASCII && !$0.isNewline }
            func part() -> String? {
                guard random.next() % 3 != 0 else { return nil }
                let text = Self.text(&random, length: 0...3).lowercased()
                return random.next() % 7 == 0 ? text : text.filter { $0.isASCII && !$0.isNewline }
            }
            let initial = part()
            let any = (0..<Int(random.next() % 3)).compactMap { _ in part() }
            let final = part()
            let expected = SearchFilter.matchesSubstring(value.lowercased(), initial: initial, any: any, final: final)
            #expect(SearchFilter.substringMatches(value, initial: initial, any: any, final: final) == expected, "\(value.debugDescription) \(String(describing: initial)) \(any) \(String(describing: final))")
            if PrintableASCII.matches(value, initial: initial, any: any, final: final) != nil { printable += 1 }
            let other = random.next() % 2 == 0 ? value.lowercased() : (part() ?? "")
            #expect(SearchFilter.equals(value, other) == (value.lowercased() == other), "\(value.debugDescription) \(other.debugDescription)")
        }
        // Both ways were taken, many times each.
        #expect(printable > 10_000 && printable < 35_000, "\(printable)")
    }

    @Test("a few by hand")
    func examples() {
        #expect(SearchFilter.substringMatches("Zoe Quinn", initial: nil, any: ["oe q"], final: nil))
        #expect(SearchFilter.substringMatches("Zoe Quinn", initial: "zoe", any: [], final: "inn"))
        #expect(!SearchFilter.substringMatches("Zoe", initial: "zo", any: [], final: "oe"), "the final part may not overlap the initial")
        #expect(!SearchFilter.substringMatches("Zoe", initial: nil, any: ["e", "z"], final: nil), "parts in order")
        #expect(SearchFilter.substringMatches("Élodie", initial: "él", any: [], final: nil))
        #expect(SearchFilter.equals("ALICE@Example.TEST", "alice@example.test"))
        #expect(!SearchFilter.equals("alice", "alic"))
    }
}
