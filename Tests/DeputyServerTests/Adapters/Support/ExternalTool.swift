import Foundation

/// Runs the real Postfix and Dovecot programs the integration tests drive.
///
/// A missing program fails the test with the commands that install it: CI installs them,
/// so their absence is a broken machine, not a reason to skip.
enum ExternalTool {
    static let installHint = """
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections && \
        DEBIAN_FRONTEND=noninteractive apt-get install -y postfix dovecot-core dovecot-imapd dovecot-pop3d python3
        """

    /// The path of `name` in the system directories, or a failure naming how to install it.
    static func path(_ name: String) throws -> String {
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestFailure("\(name) is not installed; the mail-server integration tests need Debian's postfix and dovecot-core: \(installHint)")
    }

    /// How long a program past its time has after SIGTERM before SIGKILL.
    static let killGrace = Duration.seconds(3)

    struct Output: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `name` with `arguments` and `input` on standard input, for at most `seconds`:
    /// then it gets SIGTERM, and SIGKILL ``killGrace`` later if it is still running.
    static func run(_ name: String, _ arguments: [String], input: String = "", environment: [String: String] = [:], seconds: Double = 30) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path(name))
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let finished = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { finished.continuation.yield($0.terminationStatus); finished.continuation.finish() }
        try process.run()
        // Read both pipes while the program runs, so a full pipe can't stall it; on threads
        // of their own, since a blocking read on Swift's few cooperative threads could starve
        // the very tasks that wait for it.
        let outTask = Task { await readToEnd(stdout.fileHandleForReading) }
        let errTask = Task { await readToEnd(stderr.fileHandleForReading) }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let killer = Task {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            guard process.isRunning else { return }
            process.terminate()
            // A program that ignores SIGTERM would otherwise hold the test until the run's
            // 30-minute bound.
            try await Task.sleep(for: killGrace)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        var status: Int32 = -1
        for await code in finished.stream { status = code }
        killer.cancel()
        let out = String(decoding: await outTask.value, as: UTF8.self)
        let err = String(decoding: await errTask.value, as: UTF8.self)
        return Output(status: status, stdout: out, stderr: err)
    }

    private static func readToEnd(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: handle.readDataToEndOfFile()) }
        }
    }
}
