import Foundation

/// The CPU time this process has used so far, on every core, in seconds: what the
/// benchmarks set beside wall-clock time.
public func processCPUTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
