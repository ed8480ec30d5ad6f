/// The store's limits and fixed modes, in one place.
public enum StorageLimits {
    /// The largest journal record body, 16 MiB. A command is far smaller; a record claiming
    /// more is damage, and a command that would need more is refused.
    public static let maximumRecordLength = 16 << 20
    /// The mode of the data directory: its owner only.
    public static let directoryPermissions: UInt16 = 0o700
    /// The mode of every file the store writes: its owner only.
    public static let filePermissions: UInt16 = 0o600
    /// The permission bits that must be clear on the data directory and its files.
    public static let forbiddenPermissions: UInt16 = 0o077
}
