import Foundation
import Synchronization

/// Runs programs from tests without blocking any of Swift's few cooperative threads (the
/// server under test runs on them).
enum ProcessRunner {
    struct Result: Sendable {
        let output: String
        let error: String
        let status: Int32
    }

    /// Runs `path` with `input` on standard input and waits for it to exit.
    static func run(_ path: String, _ arguments: [String], input: String = "", environment: [String: String] = [:], replaceEnvironment: Bool = false) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if replaceEnvironment {
            process.environment = environment
        } else if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let output = OutputCollector()
        let errors = OutputCollector()
        let done = Completion()
        return try await withCheckedThrowingContinuation { continuation in
            let finishIfDone: @Sendable () -> Void = {
                if done.step() { continuation.resume(returning: Result(output: output.text, error: errors.text, status: done.status)) }
            }
            stdout.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { handle.readabilityHandler = nil; finishIfDone() } else { output.append(data) }
            }
            stderr.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { handle.readabilityHandler = nil; finishIfDone() } else { errors.append(data) }
            }
            process.terminationHandler = { process in
                done.status = process.terminationStatus
                finishIfDone()
            }
            do {
                try process.run()
                stdin.fileHandleForWriting.write(Data(input.utf8))
                try stdin.fileHandleForWriting.close()
            } catch {
                stdout.fileHandleForReading.readabilityHandler = nil
                stderr.fileHandleForReading.readabilityHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }
}

/// Counts the three ends of a process (its exit and both pipes) and says when all came.
final class Completion: Sendable {
    private let remaining = Mutex(3)
    private let exitStatus = Mutex<Int32>(-1)
    func step() -> Bool { remaining.withLock { $0 -= 1; return $0 == 0 } }
    var status: Int32 {
        get { exitStatus.withLock { $0 } }
        set { exitStatus.withLock { $0 = newValue } }
    }
}

/// Bytes gathered from a pipe's handler thread.
final class OutputCollector: Sendable {
    private let data = Mutex(Data())
    func append(_ more: Data) { data.withLock { $0.append(more) } }
    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}
