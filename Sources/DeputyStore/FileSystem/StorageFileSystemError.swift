/// A failed file operation: what was done, to which path, and the system's error number.
public struct StorageFileSystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The operation, for example `write` or `fsync`.
    public let operation: String
    /// The path operated on.
    public let path: String
    /// The `errno` value.
    public let errorNumber: Int32

    /// Creates an error.
    public init(operation: String, path: String, errorNumber: Int32) {
        self.operation = operation
        self.path = path
        self.errorNumber = errorNumber
    }

    public var description: String {
        "\(operation) \(path): \(Self.explanation(errorNumber))"
    }

    /// A short explanation of an error number, in the system's words.
    public static func explanation(_ number: Int32) -> String {
        switch number {
        case ErrorNumber.noSpace: "no space left on device"
        case ErrorNumber.inputOutput: "input/output error"
        case ErrorNumber.noEntry: "no such file or directory"
        case ErrorNumber.exists: "file exists"
        case ErrorNumber.accessDenied: "permission denied"
        case ErrorNumber.notPermitted: "operation not permitted"
        case ErrorNumber.readOnlyFileSystem: "read-only file system"
        case ErrorNumber.quotaExceeded: "disk quota exceeded"
        case ErrorNumber.notDirectory: "not a directory"
        case ErrorNumber.isDirectory: "is a directory"
        case ErrorNumber.badDescriptor: "bad file descriptor"
        default: "error \(number)"
        }
    }
}
