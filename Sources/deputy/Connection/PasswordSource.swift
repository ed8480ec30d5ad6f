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

    /// Asks on the terminal without echo. Without a terminal, `getpass` reads standard
    /// input instead, and a script's empty input would go to the server as a password, to be
    /// refused and audited as a failed login: that is refused here, as an empty answer is.
    static func ask(_ prompt: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError(.usage, "this step needs a terminal, to ask for a password or code that is not echoed; run it on one")
        }
        guard let pointer = getpass(prompt) else { throw CLIError(.usage, "could not read a password from the terminal") }
        let answer = String(cString: pointer)
        guard !answer.isEmpty else { throw CLIError(.usage, "nothing was typed; nothing was sent") }
        return answer
    }

    /// Reads the first line of `file`, refusing a file that group or others can read.
    static func read(_ file: NamedFile) throws -> String {
        let path = file.path
        try LocalFile.requireReadable(path, file.what)
        // The mode of the file itself, through any symbolic link (whose own mode is always
        // 0777): `stat`, where FileManager's attributes are the link's.
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o077 == 0 else {
            throw CLIError(.configuration, "\(file.what) \(path) is open to its group or others; run: chmod 600 \(path)")
        }
        let text = String(decoding: try LocalFile.read(path, file.what), as: UTF8.self)
        // Any line ending ends the line: "\r\n" (a file written on Windows) is one Character,
        // which a split on "\n" would leave in the password.
        let line = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !line.isEmpty else { throw CLIError(.configuration, "\(file.what) \(path) is empty; its first line is the password") }
        return line
    }
}
