import Foundation

extension ReplyStatus {
    /// The revision an `OK` to a change carries, `OK user bob@example.org added (revision 42)`:
    /// a query with `revision=42`, on this server or on any other node of a cluster, is
    /// answered from a directory that holds the change. `nil` for any other status.
    public var revision: UInt64? {
        guard case .ok(let text?) = self, text.hasSuffix(")"), let open = text.range(of: " (revision ", options: .backwards) else { return nil }
        let digits = text[open.upperBound..<text.index(before: text.endIndex)]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return UInt64(digits)
    }
}
