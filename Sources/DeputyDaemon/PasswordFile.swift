import DeputyServer
import DeputyStore
import Foundation

/// A password kept in a file of its own, as the daemon's tools take passwords: the file
/// must be readable by its owner only, and its first line is the password.
public enum PasswordFile {
    /// The password on the file's first line; a ``ConfigurationError`` that says what to do
    /// when the file is missing, open to others or empty.
    public static func read(_ path: String) throws -> String {
        let bytes: [UInt8]
        do {
            bytes = try PosixFileSystem().readFile(path)
        } catch {
            throw ConfigurationError("cannot read the password file \(path): \(StorageFileSystemError.explanation(error.errorNumber))")
        }
        // The mode of the file itself: a symbolic link's own mode is always 0777.
        guard let info = try? PosixFileSystem().info(path), info.permissions & 0o077 == 0 else {
            throw ConfigurationError("the password file \(path) is open to its group or others; run: chmod 600 \(path)")
        }
        // Any line ending ends the line: "\r\n" (a file written on Windows) is one Character
        // that a split on "\n" would leave in the password.
        let firstLine = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
        guard let password = firstLine, !password.isEmpty else {
            throw ConfigurationError("the password file \(path) is empty")
        }
        return password
    }
}
