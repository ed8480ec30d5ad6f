import Foundation

/// The byte buffer that ``StorageJSONEncoder`` writes into, with the containers still open.
///
/// Codable has no call that ends a container: one ends when its owner writes something
/// else or when the value it belongs to has been encoded. So open containers are kept on a
/// stack, and writing at one depth first closes everything deeper. Keys are written in the
/// order the type encodes them; when an object closes and its keys were not in order, its
/// members are rearranged in place, so the output has sorted keys without building a tree.
final class JSONOutput {
    enum Kind {
        case object
        case array
        /// A value handed out by `superEncoder`, written later by whoever receives it.
        case value
    }

    struct Context {
        let id: Int
        let kind: Kind
        /// Offset of the opening bracket (or of the value).
        let start: Int
        let depth: Int
        var count = 0
        /// Index in `members` of this object's first member.
        let memberBase: Int
        var sorted = true
    }

    struct Member {
        let start: Int
        let key: String
    }

    /// Everything that changes while encoding. Kept behind a pointer: the members of a
    /// class are checked for exclusive access at run time on every use, which costs more
    /// than the encoding itself, and this buffer is only ever used by one thread.
    struct State {
        var bytes: [UInt8] = []
        var contexts: [Context] = []
        var members: [Member] = []
        var scratch: [UInt8] = []
        var order: [(key: String, range: Range<Int>)] = []
        var nextID = 0
        var failure: String?
        /// Whether each type met so far is an ``UnorderedEncodable`` set.
        var unorderedTypes: [ObjectIdentifier: Bool] = [:]
    }

    private let state: UnsafeMutablePointer<State>
    /// Containers at a depth below this put each member on its own line, indented; deeper
    /// ones are compact.
    let expandedDepth: Int

    init(expandedDepth: Int, capacity: Int = 4_096) {
        self.expandedDepth = expandedDepth
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        state.pointee.bytes.reserveCapacity(capacity)
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// The encoded bytes.
    var bytes: [UInt8] {
        get { state.pointee.bytes }
        _modify { yield &state.pointee.bytes }
    }

    /// The last byte written, if any.
    var lastByte: UInt8? { state.pointee.bytes.last }

    /// The first misuse of the Codable contract, reported when encoding ends.
    var failure: String? {
        get { state.pointee.failure }
        set { state.pointee.failure = newValue }
    }

    /// Whether values of `type` are sets to write sorted; the answer is remembered per
    /// type, since asking the runtime costs more than encoding most values.
    func isUnordered<T>(_ type: T.Type) -> Bool {
        let identifier = ObjectIdentifier(type)
        if let known = state.pointee.unorderedTypes[identifier] { return known }
        let unordered = type is any UnorderedEncodable.Type
        state.pointee.unorderedTypes[identifier] = unordered
        return unordered
    }

    /// The number of open containers.
    var depth: Int { state.pointee.contexts.count }

    // MARK: - Containers

    /// A reference to an open container.
    struct Handle {
        let index: Int
        let id: Int
    }

    /// Opens a container at the current position.
    func open(_ kind: Kind) -> Handle {
        let depth = state.pointee.contexts.last.map { $0.depth + 1 } ?? 0
        state.pointee.nextID += 1
        switch kind {
        case .object: state.pointee.bytes.append(UInt8(ascii: "{"))
        case .array: state.pointee.bytes.append(UInt8(ascii: "["))
        case .value: break
        }
        state.pointee.contexts.append(Context(id: state.pointee.nextID, kind: kind, start: state.pointee.bytes.count - (kind == .value ? 0 : 1), depth: depth, memberBase: state.pointee.members.count))
        return Handle(index: state.pointee.contexts.count - 1, id: state.pointee.nextID)
    }

    /// Closes every container above `depth` (a count of open containers).
    func close(downTo depth: Int) {
        while state.pointee.contexts.count > depth { closeLast() }
    }

    /// Makes `handle` the innermost open container again, closing the ones above it;
    /// `false` when it was closed already (the caller wrote to a finished container).
    func reopen(_ handle: Handle) -> Bool {
        guard handle.index < state.pointee.contexts.count, state.pointee.contexts[handle.index].id == handle.id else {
            if state.pointee.failure == nil { state.pointee.failure = "a container was written to after it was finished" }
            return false
        }
        close(downTo: handle.index + 1)
        return true
    }

    /// Starts the next element of the array `handle`.
    func beginElement(_ handle: Handle) -> Bool {
        guard reopen(handle) else { return false }
        writeSeparator(handle.index)
        state.pointee.contexts[handle.index].count += 1
        return true
    }

    /// Starts the member `key` of the object `handle`: separator, key, colon.
    func beginMember(_ handle: Handle, key: String) -> Bool {
        guard reopen(handle) else { return false }
        let index = handle.index
        writeSeparator(index)
        if let previous = state.pointee.members.last, state.pointee.members.count > state.pointee.contexts[index].memberBase,
            !Self.precedes(previous.key, key)
        {
            state.pointee.contexts[index].sorted = false
        }
        state.pointee.members.append(Member(start: state.pointee.bytes.count, key: key))
        state.pointee.contexts[index].count += 1
        writeString(key)
        state.pointee.bytes.append(UInt8(ascii: ":"))
        if state.pointee.contexts[index].depth < expandedDepth { state.pointee.bytes.append(UInt8(ascii: " ")) }
        return true
    }

    private func writeSeparator(_ index: Int) {
        let context = state.pointee.contexts[index]
        if context.count > 0 { state.pointee.bytes.append(UInt8(ascii: ",")) }
        if context.depth < expandedDepth { writeLineBreak(indent: context.depth + 1) }
    }

    private func writeLineBreak(indent: Int) {
        state.pointee.bytes.append(UInt8(ascii: "\n"))
        state.pointee.bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private func closeLast() {
        let context = state.pointee.contexts.removeLast()
        switch context.kind {
        case .value:
            // Nobody wrote the value: an empty object, as an empty `encode(to:)` gives.
            if state.pointee.bytes.count == context.start { state.pointee.bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")]) }
        case .array:
            if context.count > 0, context.depth < expandedDepth { writeLineBreak(indent: context.depth) }
            state.pointee.bytes.append(UInt8(ascii: "]"))
        case .object:
            if !context.sorted { sortMembers(of: context) }
            state.pointee.members.removeSubrange(context.memberBase...)
            if context.count > 0, context.depth < expandedDepth { writeLineBreak(indent: context.depth) }
            state.pointee.bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Rewrites the members of `context`, which end at the end of the buffer, in key order.
    private func sortMembers(of context: Context) {
        let spans = state.pointee.members[context.memberBase...]
        let separatorLength = 1 + (context.depth < expandedDepth ? 1 + (context.depth + 1) * 2 : 0)
        let end = state.pointee.bytes.count
        state.pointee.order.removeAll(keepingCapacity: true)
        for (offset, member) in zip(spans.indices, spans) {
            let memberEnd = offset + 1 < spans.endIndex ? spans[offset + 1].start - separatorLength : end
            state.pointee.order.append((member.key, member.start..<memberEnd))
        }
        state.pointee.order.sort { Self.precedes($0.key, $1.key) }
        let first = spans[spans.startIndex].start
        state.pointee.scratch.removeAll(keepingCapacity: true)
        state.pointee.scratch.append(contentsOf: state.pointee.bytes[first..<end])
        state.pointee.bytes.removeSubrange(first...)
        for position in state.pointee.order.indices {
            let entry = state.pointee.order[position]
            if position > 0 {
                state.pointee.bytes.append(UInt8(ascii: ","))
                if context.depth < expandedDepth { writeLineBreak(indent: context.depth + 1) }
            }
            state.pointee.bytes.append(contentsOf: state.pointee.scratch[(entry.range.lowerBound - first)..<(entry.range.upperBound - first)])
        }
    }

    /// Key order: `String`'s `<`, as Foundation sorts keys (for the ASCII keys of Codable
    /// types, byte order).
    private static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs < rhs
    }

    // MARK: - Scalars

    func writeNull() {
        state.pointee.bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    func writeBool(_ value: Bool) {
        if value {
            state.pointee.bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            state.pointee.bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    func writeInteger<T: BinaryInteger>(_ value: T) {
        if value < 0 { state.pointee.bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        guard magnitude != 0 else {
            state.pointee.bytes.append(UInt8(ascii: "0"))
            return
        }
        let start = state.pointee.bytes.count
        while magnitude != 0 {
            state.pointee.bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10))
            magnitude /= 10
        }
        state.pointee.bytes[start...].reverse()
    }

    func writeFloatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: T) {
        guard value.isFinite else {
            if state.pointee.failure == nil { state.pointee.failure = "\(value) cannot be written in JSON" }
            writeNull()
            return
        }
        // Swift prints the shortest digits that read back as the same value.
        state.pointee.bytes.append(contentsOf: value.description.utf8)
    }

    func writeDate(_ date: Date) {
        state.pointee.bytes.append(UInt8(ascii: "\""))
        guard StorageTimestamp.append(date, to: &state.pointee.bytes) else {
            state.pointee.bytes.removeLast()
            if state.pointee.failure == nil { state.pointee.failure = "the date \(date) is outside the years 0000 to 9999" }
            writeNull()
            return
        }
        state.pointee.bytes.append(UInt8(ascii: "\""))
    }

    func writeString(_ string: String) {
        state.pointee.bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var plainStart = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                state.pointee.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart..<index]))
                plainStart = index + 1
                switch byte {
                case UInt8(ascii: "\""): state.pointee.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): state.pointee.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x0A: state.pointee.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: state.pointee.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: state.pointee.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    state.pointee.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            state.pointee.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plainStart...]))
        }
        state.pointee.bytes.append(UInt8(ascii: "\""))
    }
}
