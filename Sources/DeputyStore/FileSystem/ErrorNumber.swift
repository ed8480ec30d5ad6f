#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `errno` values storage meets, named once for every platform.
enum ErrorNumber {
    static let noSpace: Int32 = ENOSPC
    static let inputOutput: Int32 = EIO
    static let noEntry: Int32 = ENOENT
    static let exists: Int32 = EEXIST
    static let accessDenied: Int32 = EACCES
    static let notPermitted: Int32 = EPERM
    static let readOnlyFileSystem: Int32 = EROFS
    static let quotaExceeded: Int32 = EDQUOT
    static let notDirectory: Int32 = ENOTDIR
    static let isDirectory: Int32 = EISDIR
    static let badDescriptor: Int32 = EBADF
    static let interrupted: Int32 = EINTR
    static let invalidArgument: Int32 = EINVAL
}
