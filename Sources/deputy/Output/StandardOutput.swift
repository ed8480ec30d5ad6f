import Foundation

/// Writes to standard output and standard error as a command-line tool must: when the
/// reader has gone (`deputy user list | head`), the process ends by SIGPIPE as other tools
/// do, quietly; when standard output can't be written (a full disk under `deputy export >
/// backup.json`), it says so and exits 78. FileHandle's `write(_:)` stops the process with a
/// trap and a backtrace in both cases.
enum StandardOutput {
    static func write(_ text: String, to descriptor: Int32 = STDOUT_FILENO) {
        write(Array(text.utf8), to: descriptor)
    }

    static func write(_ bytes: some Collection<UInt8>, to descriptor: Int32 = STDOUT_FILENO) {
        let failure = Array(bytes).withUnsafeBytes { raw -> Int32 in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written >= 0 {
                    offset += written
                } else if errno != EINTR {
                    return errno
                }
            }
            return 0
        }
        // Nothing is left to tell of a message that could not be written.
        guard failure != 0, descriptor != STDERR_FILENO else { return }
        if failure == EPIPE {
            // SIGPIPE is ignored in a Swift process, so the write failed instead of ending it.
            signal(SIGPIPE, SIG_DFL)
            raise(SIGPIPE)
        }
        write("deputy: can't write to standard output: \(String(cString: strerror(failure)))\n", to: STDERR_FILENO)
        exit(ExitStatus.configuration.rawValue)
    }
}
