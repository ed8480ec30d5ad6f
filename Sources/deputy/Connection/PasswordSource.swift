import Foundation

/// Where the password comes from: `--password-file` (refused when others may read it),
/// the `DEPUTY_PASSWORD` environment variable, or a prompt that does not echo. Never from a
/// command-line argument, which other users can see in the process list.
enum PasswordSource {
    static func password(file: NamedFile?, prompt: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let file { return try read(file) }
        if let value = environment["DEPUTY_PASSWORD"], !value.isEmpty { return value }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError(.usage, "no password: use --password-file FILE, DEPUTY_PASSWORD, or run on a terminal to be asked")
        }
        return try ask(prompt)
    }

    /// Asks on the terminal without echo.
    static func ask(_ prompt: String) throws -> String {
        guard let pointer = getpass(prompt) else { throw CLIError(.usage, "could not read a password from the terminal") }
        return String(cString: pointer)
    }

    /// Reads the first line of `file`, refusing a file that group or others can read.
    static func read(_ file: NamedFile) throws -> String {
        let path = file.path
        try LocalFile.requireReadable(path, file.what)
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 == 0 else {
            throw CLIError(.configuration, "\(file.what) \(path) is open to its group or others; run: chmod 600 \(path)")
        }
        let text = String(decoding: try LocalFile.read(path, file.what), as: UTF8.self)
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !line.isEmpty else { throw CLIError(.configuration, "\(file.what) \(path) is empty; its first line is the password") }
        return line.hasSuffix("\r") ? String(line.dropLast()) : line
    }
}
