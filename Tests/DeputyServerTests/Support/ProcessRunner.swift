import Dispatch
import Foundation
import Glibc
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
    ///
    /// The child gets exactly three descriptors: its standard input, output and error.
    /// Foundation's `Process` lets a child inherit every other open descriptor, and with
    /// many tests running at once a child then holds other tests' sockets and pipes open,
    /// so their peers never see the end of a stream; spawning with `closefrom` prevents it.
    ///
    /// The child runs in a process group of its own. When it, and whatever it started that
    /// holds its output, has not ended within `timeout`, the whole group is killed and the
    /// run fails: a test fails rather than hangs on a program that does not end.
    static func run(
        _ path: String, _ arguments: [String], input: String = "", environment: [String: String] = [:], replaceEnvironment: Bool = false,
        timeout: Duration = .seconds(300)
    ) async throws -> Result {
        let variables = replaceEnvironment ? environment : ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let (inputRead, inputWrite) = try pipe()
        let (outputRead, outputWrite) = try pipe()
        let (errorRead, errorWrite) = try pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputRead, 0)
        posix_spawn_file_actions_adddup2(&actions, outputWrite, 1)
        posix_spawn_file_actions_adddup2(&actions, errorWrite, 2)
        guard closeFrom(&actions, 3) == 0 else { throw TestFailure("posix_spawn can't close descriptors") }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(inputRead)
        close(outputWrite)
        close(errorWrite)
        guard spawned == 0 else {
            close(inputWrite)
            close(outputRead)
            close(errorRead)
            throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO)
        }
        let output = OutputCollector()
        let errors = OutputCollector()
        let done = Completion()
        let child = pid
        let ended = DispatchSemaphore(value: 0)
        let killed = Atomic(false)
        let resumed = Atomic(false)
        let result = try await withCheckedThrowingContinuation { continuation in
            let resumeOnce: @Sendable () -> Void = {
                guard resumed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
                continuation.resume(returning: Result(output: output.text, error: errors.text, status: done.status))
            }
            let finishIfDone: @Sendable () -> Void = {
                guard done.step() else { return }
                ended.signal()
                resumeOnce()
            }
            // The bound, on a thread of its own: the group outlives its leader while a
            // process it started still holds the output open. A process that left the group
            // and holds it still is not waited for beyond a few seconds more.
            Thread.detachNewThread {
                let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                guard ended.wait(timeout: .now() + seconds) == .timedOut else { return }
                killed.store(true, ordering: .relaxed)
                kill(-child, SIGKILL)
                if ended.wait(timeout: .now() + 5) == .timedOut { resumeOnce() }
            }
            // Each pipe is read to its end by a thread of its own, with plain blocking reads:
            // FileHandle's readability handlers were seen to miss the end of a stream.
            for (descriptor, collector) in [(outputRead, output), (errorRead, errors)] {
                Thread.detachNewThread {
                    var chunk = [UInt8](repeating: 0, count: 65_536)
                    while true {
                        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                        if count < 0, errno == EINTR { continue }
                        if count <= 0 { break }
                        collector.append(Data(chunk[..<count]))
                    }
                    close(descriptor)
                    finishIfDone()
                }
            }
            // The exit is waited for on a thread of its own: waitpid blocks.
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0, errno == EINTR {}
                done.status = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                finishIfDone()
            }
            let bytes = Array(input.utf8)
            Thread.detachNewThread {
                var written = 0
                while written < bytes.count {
                    let result = bytes[written...].withUnsafeBytes { write(inputWrite, $0.baseAddress, $0.count) }
                    if result < 0, errno == EINTR { continue }
                    if result <= 0 { break }
                    written += result
                }
                close(inputWrite)
            }
        }
        if killed.load(ordering: .relaxed) {
            throw TestFailure("\(path) \(arguments.joined(separator: " ")) did not end within \(timeout); killed. Its output: \(result.output)\(result.error)")
        }
        return result
    }

    /// Starts `path` in the background with standard input on /dev/null, output and error
    /// appended to `outputFile` (else /dev/null), and nothing else open; returns its process id.
    /// `environment` is added to this process's own.
    static func spawnDetached(_ path: String, _ arguments: [String], outputFile: String? = nil, environment: [String: String] = [:]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard closeFrom(&actions, 3) == 0 else { throw TestFailure("posix_spawn can't close descriptors") }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The child starts with no signal blocked and every signal at its default: a
        // daemon (Dovecot's auth process waits for its checkpassword children by SIGCHLD)
        // must not inherit the test runner's mask.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        return pid
    }

    /// Waits for a child started with ``spawnDetached(_:_:)`` to end, off the cooperative threads.
    static func wait(_ pid: pid_t) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                continuation.resume()
            }
        }
    }

    private static func pipe() throws -> (Int32, Int32) {
        var descriptors: [Int32] = [0, 0]
        guard Glibc.pipe(&descriptors) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return (descriptors[0], descriptors[1])
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which the C
    /// headers imported into Swift do not declare.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later is needed)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
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
