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
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 == 0 else {
            throw ConfigurationError("the password file \(path) can be read by others; run: chmod 600 \(path)")
        }
        guard let password = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init), !password.isEmpty else {
            throw ConfigurationError("the password file \(path) is empty")
        }
        return password
    }
}
