import Foundation
import Testing

/// README.md's first session (openssl), its netcat session and the administrator's
/// walkthrough with `deputy`, replayed in order against one real daemon, as a person would
/// type them: every `console` block, each `$ ` command run by the shell in the directory
/// that holds `deputy-data`, with `deputy` and `deputyd` on the PATH, and its output
/// compared with what the README shows. Commands run at a terminal (`script` gives them
/// one), so `deputy` prints tables as it does for a person. The only changes made to the
/// text are the ports (the daemon listens on free ones) and the password the first session
/// types.
@Suite("README.md sessions")
struct ReadmeTests {
    struct Step: CustomStringConvertible, Sendable {
        /// The command line; continuation lines (`> `) joined with newlines.
        var command: String
        /// What the README shows after it.
        var output: [String]
        var description: String { command }
    }

    static let document: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
    }()

    /// Every step of every `console` block, in the order of the README.
    static let steps: [Step] = {
        var steps: [Step] = []
        var inConsole = false
        for line in document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "```console" {
                inConsole = true
            } else if line == "```" {
                inConsole = false
            } else if inConsole, line.hasPrefix("$ ") {
                steps.append(Step(command: String(line.dropFirst(2)), output: []))
            } else if inConsole, line.hasPrefix("> "), !steps.isEmpty, steps[steps.count - 1].output.isEmpty {
                steps[steps.count - 1].command += "\n" + line.dropFirst(2)
            } else if inConsole, !steps.isEmpty {
                steps[steps.count - 1].output.append(line)
            }
        }
        return steps
    }()

    /// A line the daemon sends, in a session typed at openssl: everything else was typed.
    static func isReply(_ line: String) -> Bool {
        line == "OK" || line.hasPrefix("OK ") || line.hasPrefix("ERR ") || line.hasPrefix("* ")
    }

    @Test("README.md holds the first session, the netcat session and the walkthrough")
    func documentHasSessions() {
        #expect(Self.steps.first?.command.hasPrefix("openssl s_client") == true)
        #expect(Self.steps.contains { $0.command.contains("| nc 127.0.0.1 ") })
        #expect(Self.steps.filter { $0.command.hasPrefix("deputy ") }.count >= 8)
    }

    @Test("The sessions and the walkthrough run as written, one after the other, and print what README.md shows")
    func replay() async throws {
        let daemon = try await SecurityDaemon.start(dataDirectoryName: "deputy-data")
        let directory = daemon.root.path
        let home = daemon.root.appendingPathComponent("home").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let binaries = URL(fileURLWithPath: SecurityDaemon.binary).deletingLastPathComponent().path
        let environment = ["HOME": home, "PATH": "\(binaries):/usr/bin:/bin", "SHELL": "/bin/sh", "NO_COLOR": "1", "TERM": "dumb"]
        for step in Self.steps {
            let command = step.command
                .replacingOccurrences(of: "127.0.0.1:7636", with: "127.0.0.1:\(daemon.tlsPort)")
                .replacingOccurrences(of: "127.0.0.1 7635", with: "127.0.0.1 \(daemon.plainPort)")
            let script = "cd '\(directory)' || exit 99\n\(command)"
            if command.hasPrefix("openssl s_client") {
                // Typed at openssl: what was typed goes in, what the daemon sent comes out.
                let typed = step.output.filter { !Self.isReply($0) }
                    .map { $0.replacingOccurrences(of: "<the password from deputy-data/initial-password>", with: daemon.password) }
                let run = try await ProcessRunner.run("/bin/sh", ["-c", script], input: typed.map { $0 + "\n" }.joined(), environment: environment, replaceEnvironment: true)
                #expect(run.status == 0, "\(step): \(run.error)")
                #expect(Self.lines(run.output) == step.output.filter(Self.isReply), "\(step): \(run.error)")
            } else {
                let run = try await ProcessRunner.run("/usr/bin/script", ["-qec", script, "/dev/null"], environment: environment, replaceEnvironment: true)
                #expect(run.status == 0, "\(step): \(run.output)")
                #expect(Self.lines(run.output) == step.output, "\(step)")
            }
        }
        #expect(await daemon.stop())
    }

    /// The lines of a terminal's or a pipe's output, without carriage returns.
    static func lines(_ text: String) -> [String] {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return lines.last == "" ? Array(lines.dropLast()) : lines
    }
}
