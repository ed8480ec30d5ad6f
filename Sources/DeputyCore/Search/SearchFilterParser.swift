/// Parses the text of a ``SearchFilter``.
public enum SearchFilterParser {
    /// Why a filter did not parse.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// What is wrong, with the byte offset.
        public let message: String
        public var description: String { message }
    }

    /// Parses `text`; a filter without outer parentheses (`mail=a@b.c`) is accepted too.
    public static func parse(_ text: String) throws(Failure) -> SearchFilter {
        guard text.utf8.count <= SearchFilter.maximumLength else {
            throw Failure(message: "the filter is longer than \(SearchFilter.maximumLength) bytes")
        }
        var source = Array(text.utf8)
        if source.first != UInt8(ascii: "(") { source = [UInt8(ascii: "(")] + source + [UInt8(ascii: ")")] }
        var cursor = Cursor(bytes: source)
        let filter = try cursor.parseFilter(depth: 0)
        guard cursor.atEnd else { throw cursor.failure("unexpected text after the filter") }
        return filter
    }

    private struct Cursor {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        func failure(_ message: String) -> Failure {
            Failure(message: "\(message) at offset \(position)")
        }

        mutating func expect(_ byte: UInt8) throws(Failure) {
            guard position < bytes.count, bytes[position] == byte else {
                throw failure("expected '\(Character(Unicode.Scalar(byte)))'")
            }
            position += 1
        }

        mutating func parseFilter(depth: Int) throws(Failure) -> SearchFilter {
            guard depth < SearchFilter.maximumDepth else { throw failure("the filter nests too deeply") }
            try expect(UInt8(ascii: "("))
            guard position < bytes.count else { throw failure("the filter ends early") }
            let filter: SearchFilter
            switch bytes[position] {
            case UInt8(ascii: "&"):
                position += 1
                filter = .and(try parseList(depth: depth))
            case UInt8(ascii: "|"):
                position += 1
                filter = .or(try parseList(depth: depth))
            case UInt8(ascii: "!"):
                position += 1
                filter = .not(try parseFilter(depth: depth + 1))
            default:
                filter = try parseItem()
            }
            try expect(UInt8(ascii: ")"))
            return filter
        }

        mutating func parseList(depth: Int) throws(Failure) -> [SearchFilter] {
            var filters: [SearchFilter] = []
            while position < bytes.count, bytes[position] == UInt8(ascii: "(") {
                filters.append(try parseFilter(depth: depth + 1))
            }
            guard !filters.isEmpty else { throw failure("an '&' or '|' needs at least one filter") }
            return filters
        }

        mutating func parseItem() throws(Failure) -> SearchFilter {
            let start = position
            while position < bytes.count, Self.isAttributeByte(bytes[position]) { position += 1 }
            guard position > start else { throw failure("expected an attribute name") }
            let attribute = String(decoding: bytes[start..<position], as: UTF8.self).lowercased()
            try expect(UInt8(ascii: "="))
            // The value runs to the closing parenthesis; '*' splits it into substring parts.
            var parts: [[UInt8]] = [[]]
            while position < bytes.count, bytes[position] != UInt8(ascii: ")") {
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "("):
                    throw failure("'(' must be escaped as \\28 in a value")
                case UInt8(ascii: "*"):
                    parts.append([])
                    position += 1
                case UInt8(ascii: "\\"):
                    guard position + 2 < bytes.count, let high = Self.hexValue(bytes[position + 1]),
                        let low = Self.hexValue(bytes[position + 2])
                    else { throw failure("a '\\' must be followed by two hex digits") }
                    parts[parts.count - 1].append(high << 4 | low)
                    position += 3
                default:
                    parts[parts.count - 1].append(byte)
                    position += 1
                }
            }
            let strings = parts.map { String(decoding: $0, as: UTF8.self).lowercased() }
            if strings.count == 1 { return .equality(attribute: attribute, value: strings[0]) }
            if strings.count == 2, strings[0].isEmpty, strings[1].isEmpty { return .presence(attribute: attribute) }
            let middle = strings.dropFirst().dropLast().filter { !$0.isEmpty }
            return .substring(
                attribute: attribute, initial: strings.first!.isEmpty ? nil : strings.first!,
                any: Array(middle), final: strings.last!.isEmpty ? nil : strings.last!
            )
        }

        static func isAttributeByte(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
        }

        static func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
    }
}
