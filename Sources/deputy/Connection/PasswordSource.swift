import Foundation

/// Where the password comes from: `--password-file` (refused when others may read it),
/// the `DEPUTY_PASSWORD` environment variable, or a prompt that does not echo. Never from a
/// command-line argument, which other users can see in the process list.
enum PasswordSource {
    static func password(file: String?, prompt: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
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

    /// Reads the first line of `path`, refusing a file that group or others can read.
    static func read(_ path: String) throws -> String {
        guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int else {
            throw CLIError(.usage, "can't read the password file \(path)")
        }
        guard mode & 0o077 == 0 else {
            throw CLIError(.usage, "the password file \(path) can be read by others; run: chmod 600 \(path)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError(.usage, "can't read the password file \(path)")
        }
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !line.isEmpty else { throw CLIError(.usage, "the password file \(path) is empty") }
        return line.hasSuffix("\r") ? String(line.dropLast()) : line
    }
}
