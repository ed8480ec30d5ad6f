/// File permission bits as people read and type them.
public enum FileMode {
    /// `permissions` as `chmod` takes them, for example `0644`: what a refusal of a file
    /// open to group or others shows, in the store and beside it (the audit log).
    public static func octal(_ permissions: UInt16) -> String {
        let digits = String(permissions, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
