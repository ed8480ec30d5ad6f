#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory freed by a recovery back to the operating system.
///
/// Recovery reads the whole snapshot into memory, indexes its JSON and decodes it: tens of
/// megabytes per hundred thousand users that are freed as soon as the directory is built.
/// glibc keeps freed memory for the process, so without this the daemon's resident size
/// would stay that much above what the directory needs (about 40 MiB for the 100,000-user
/// bench directory). `malloc_trim` is looked up at run time because Swift's Glibc module
/// does not declare it; where it does not exist this does nothing.
enum FreedMemory {
    static func release() {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
