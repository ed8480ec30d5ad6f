#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files, and what the connection limits need of it.
///
/// Every connection holds a descriptor. Shells and systemd start a process with a soft
/// limit of 1,024 (kept low for the sake of programs that still use select(2)), which the
/// default connection limits alone exceed. Past the limit accept(2) fails: the daemon keeps
/// running, but new connections wait in the listen queue, unanswered, until one closes,
/// where they should have been refused with `ERR limit`. So the daemon raises its soft
/// limit to what its configuration needs, as far as the hard limit allows, and warns when
/// that is not enough.
public struct DescriptorLimit: Sendable, Equatable, CustomStringConvertible {
    /// The soft limit: the one enforced.
    public var soft: Int
    /// The hard limit: how far an unprivileged process may raise the soft one.
    public var hard: Int

    public init(soft: Int, hard: Int) {
        self.soft = soft
        self.hard = hard
    }

    public var description: String { "\(soft) (hard \(hard))" }

    /// Descriptors the daemon holds besides connections: standard streams, listeners, the
    /// journal, a snapshot or backup being written, the audit file, and per event loop an
    /// epoll, an eventfd and timers (about 22 in all on two cores); with room to spare.
    public static func reserve(cores: Int) -> Int { 64 + 4 * cores }

    /// The descriptors `server` and `mail` may hold at once: every connection each
    /// listener allows, plus the reserve.
    public static func needed(server: ServerLimits, mail: MailAdapterConfiguration, cores: Int) -> Int {
        server.maximumConnections + mail.listeners.reduce(0) { $0 + $1.limits.maximumConnections } + reserve(cores: cores)
    }

    /// The process's limit now, or `nil` if it can't be read.
    public static func current() -> DescriptorLimit? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return DescriptorLimit(soft: Self.count(limit.rlim_cur), hard: Self.count(limit.rlim_max))
    }

    /// Raises the soft limit to `needed`, or to the hard limit if that is lower; never
    /// lowers it. Returns the limit before and after.
    public static func raise(toward needed: Int) -> (before: DescriptorLimit, after: DescriptorLimit)? {
        guard let before = current() else { return nil }
        let target = min(needed, before.hard)
        guard target > before.soft else { return (before, before) }
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        limit.rlim_cur = rlim_t(target)
        guard setrlimit(resource, &limit) == 0, let after = current() else { return (before, before) }
        return (before, after)
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif

    /// An rlim_t as a count; RLIM_INFINITY and anything past Int.max read as Int.max.
    private static func count(_ value: rlim_t) -> Int {
        value >= rlim_t(Int.max) ? Int.max : Int(value)
    }
}
