import Foundation

/// Files `deputy` reads on this machine (password files, CSV imports, exports), with errors
/// that name the file and say what is wrong in words: one not there is "not found", one that
/// can't be read is a configuration problem.
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
}
