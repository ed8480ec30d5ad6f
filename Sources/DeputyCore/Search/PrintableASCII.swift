/// Case-insensitive comparisons of text that is all printable ASCII (space to tilde), byte by
/// byte. In such text every byte is a character of its own, and lowercasing changes only the
/// capitals, so these give what comparing the lowercased characters gives; for any other
/// text they answer `nil` and the caller compares characters.
enum PrintableASCII {
    /// Whether `value`, capitals folded, equals `lowered`; `nil` unless both are printable ASCII.
    static func equals(_ value: String, _ lowered: String) -> Bool? {
        var value = value
        var lowered = lowered
        return value.withUTF8 { value in
            lowered.withUTF8 { lowered -> Bool? in
                guard isPrintable(value), isPrintable(lowered) else { return nil }
                return value.count == lowered.count && matches(value, at: 0, lowered)
            }
        }
    }

    /// Whether `value`, capitals folded, starts with `initial`, then holds each of `any` in
    /// turn, each after the one before, and ends with `final` after them; `nil` unless the
    /// value and every part are printable ASCII.
    static func matches(_ value: String, initial: String?, any: [String], final: String?) -> Bool? {
        var value = value
        return value.withUTF8 { value -> Bool? in
            guard isPrintable(value) else { return nil }
            var position = 0
            if let initial {
                guard let found = find(initial, in: value, from: 0, anchored: true) else { return false }
                guard let end = found else { return nil }
                position = end
            }
            for part in any {
                guard let found = find(part, in: value, from: position, anchored: false) else { return false }
                guard let end = found else { return nil }
                position = end
            }
            if let final {
                var final = final
                return final.withUTF8 { final -> Bool? in
                    guard isPrintable(final) else { return nil }
                    return value.count - position >= final.count && matches(value, at: value.count - final.count, final)
                }
            }
            return true
        }
    }

    /// Where `part` ends, found at `start` (anchored) or at its first place from `start`:
    /// `.none` when it isn't there, `.some(nil)` when `part` is not printable ASCII.
    private static func find(_ part: String, in value: UnsafeBufferPointer<UInt8>, from start: Int, anchored: Bool) -> Int?? {
        var part = part
        return part.withUTF8 { part -> Int?? in
            // An empty part is never found by the comparison of characters: left to it.
            guard isPrintable(part), !part.isEmpty || anchored else { return .some(nil) }
            guard value.count - start >= part.count else { return .none }
            let last = anchored ? start : value.count - part.count
            for offset in start...last where matches(value, at: offset, part) {
                return .some(offset + part.count)
            }
            return .none
        }
    }

    /// Whether `value` from `offset`, capitals folded, begins with `lowered`, which fits there.
    private static func matches(_ value: UnsafeBufferPointer<UInt8>, at offset: Int, _ lowered: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<lowered.count {
            let byte = value[offset + index]
            let folded = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
            if folded != lowered[index] { return false }
        }
        return true
    }

    private static func isPrintable(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 &- 0x20 < 0x5F }
    }
}
