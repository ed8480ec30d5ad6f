/// The "did you mean" of configuration files and command lines: the known word closest to a
/// mistyped one.
public enum NearestWord {
    /// The word of `candidates` fewest edits (insertions, deletions, substitutions) away
    /// from `word`, ignoring case, when at most `maximum` edits away; the first such in
    /// `candidates` order on a tie.
    public static func among(_ candidates: [String], to word: String, maximum: Int = 2) -> String? {
        let scored = candidates.map { ($0, distance($0.lowercased(), word.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= maximum else { return nil }
        return best.0
    }

    /// The number of single-character edits that turn `a` into `b` (Levenshtein).
    public static func distance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
