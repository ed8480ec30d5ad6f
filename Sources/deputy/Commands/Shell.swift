import ArgumentParser
import DeputyProtocol
import Foundation
import NIOCore

/// `deputy shell`: one connection, many requests, typed as protocol lines or as subcommands.
struct Shell: DeputyCommand {
    static let configuration = CommandConfiguration(
        abstract: "An interactive session on one connection.",
        discussion: "Type protocol lines (QUERY SENDAS a@x b@x) or subcommands without 'deputy' (user show a@x). 'help' lists the verbs; 'exit' or 'quit' (any case, so the protocol's QUIT too) or the end of input leaves, and no line after it is read. Every line up to then runs, failed or not; the exit status is the first failed line's, or 0 when none failed, so a script piped in is checked as one command."
    )
    @OptionGroup var connection: ConnectionOptions

    func perform(_ session: DeputySession) async throws -> ExitStatus {
        let interactive = isatty(STDIN_FILENO) == 1
        // The first failure's status, not the last line's: a script piped in whose later lines
        // succeed must not hide an earlier refusal from the caller's `$?`.
        var first = ExitStatus.success
        func note(_ status: ExitStatus) {
            if first == .success { first = status }
        }
        while true {
            if interactive { ReplyPrinter.write("deputy> ", to: .standardOutput) }
            guard let line = readLine() else { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if ["exit", "quit"].contains(trimmed.lowercased()) { break }
            do {
                note(try await handle(trimmed, session))
            } catch let error as CLIError {
                error.report(verbose: connection.verbose)
                note(error.status)
            } catch let error as ExitCode {
                note(ExitStatus(rawValue: error.rawValue) ?? .refused)
            }
        }
        return first
    }

    /// A line is a subcommand when its first word names one, else a protocol line.
    private func handle(_ line: String, _ session: DeputySession) async throws -> ExitStatus {
        let words = ShellWords.split(line)
        if let first = words.first, Deputy.configuration.subcommands.contains(where: { $0.configuration.commandName == first }) {
            let command: any ParsableCommand
            do {
                command = try Deputy.parseAsRoot(GlobalOptions.reordered(words))
            } catch {
                ReplyPrinter.message(Deputy.fullMessage(for: error))
                return .usage
            }
            guard let runnable = command as? any DeputyCommand, !(command is Shell) else {
                throw CLIError(.usage, "that subcommand can't run inside the shell")
            }
            return try await runnable.perform(session)
        }
        let request: RequestLine
        do {
            guard let parsed = try RequestParser.parse(line) else { return .success }
            request = parsed
        } catch {
            throw CLIError(.usage, error.message)
        }
        let reply = try await session.send(request)
        session.printer.print(reply)
        return ExitStatus(reply.status)
    }
}

/// Splits a shell line into words: spaces separate, single or double quotes group.
enum ShellWords {
    static func split(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
