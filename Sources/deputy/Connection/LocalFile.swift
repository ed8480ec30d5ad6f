import Foundation

/// Files `deputy` reads and writes on this machine (password files, CSV imports, exports,
/// rejected rows), with errors that name the file and say what is wrong in words: one not
/// there is "not found", one that can't be read or written is a configuration problem.
enum LocalFile {
    /// The contents of the file at `path`; `what` names it in errors: `the password file`.
    static func read(_ path: String, _ what: String) throws -> Data {
        try requireReadable(path, what)
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CLIError(.configuration, "cannot read \(what) \(path)", detail: "\(error)")
        }
    }

    /// Throws unless the file at `path` exists, is a file, and can be read.
    static func requireReadable(_ path: String, _ what: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError(.notFound, "cannot read \(what) \(path): no such file")
        }
        guard !isDirectory.boolValue else { throw CLIError(.configuration, "cannot read \(what) \(path): it is a directory") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CLIError(.configuration, "cannot read \(what) \(path): permission denied")
        }
    }

    /// Throws unless a file can be written at `path` as ``writeAtomically(_:to:)`` writes it:
    /// its directory exists and may be written in, and `path` is not a directory.
    static func requireWritable(_ path: String, _ what: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError(.configuration, "cannot write \(what) \(path): no directory \(directory)")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw CLIError(.configuration, "cannot write \(what) \(path): \(directory) may not be written in")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CLIError(.configuration, "cannot write \(what) \(path): it is a directory")
        }
    }

    /// Writes `data` to a new file beside `path` with mode 0600, then renames it over `path`,
    /// so that `path` is either the old file or the whole export, never part of one.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let target = URL(fileURLWithPath: path)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp").path
        func failure(_ what: String) -> CLIError {
            CLIError(.configuration, "cannot write \(path): \(what): \(String(cString: strerror(errno)).lowercased())")
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("creating \(temporary)") }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        var closed = false
        defer { if !closed { close(descriptor) } }
        // The mode is set whatever the umask; 0600 from creation, so no one else can open it meanwhile.
        guard fchmod(descriptor, 0o600) == 0 else { throw failure("setting its mode") }
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var written = 0
            while written < buffer.count {
                let result = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw failure("writing")
                }
                written += result
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("flushing") }
        closed = true
        guard close(descriptor) == 0 else { throw failure("closing") }
        guard rename(temporary, path) == 0 else { throw failure("renaming \(temporary) to it") }
        renamed = true
    }
}
