import Foundation

/// How many CPUs this process may really use: the CPUs of its affinity mask (`taskset`,
/// a Kubernetes CPU set), capped by the tightest cgroup CPU quota on the way from its own
/// cgroup to the root (a container's limit, systemd's `CPUQuota=`), at least 1.
///
/// NIO's `System.coreCount` reads neither the mask nor a quota set below the cgroup root,
/// so a daemon given 4 CPUs of 16 would start 16 event loops and 16 hashing threads that
/// then queue for the same 4.
public enum UsableCores {
    /// The count for this process, read from `/proc` and `/sys/fs/cgroup`.
    public static func count() -> Int {
        let online = ProcessInfo.processInfo.activeProcessorCount
        let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let cgroup = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        return count(
            online: online, status: status, cgroup: cgroup,
            readQuota: { path in try? String(contentsOfFile: "/sys/fs/cgroup" + (path == "/" ? "" : path) + "/cpu.max", encoding: .utf8) }
        )
    }

    /// The count from the texts of `/proc/self/status`, `/proc/self/cgroup` and a reader of
    /// a cgroup's `cpu.max`: the pure part, tested with made-up files.
    static func count(online: Int, status: String?, cgroup: String?, readQuota: (String) -> String?) -> Int {
        var cores = status.flatMap(affinity(status:)) ?? online
        if let quota = cgroup.flatMap({ quota(cgroup: $0, readQuota: readQuota) }) { cores = min(cores, quota) }
        return max(1, cores)
    }

    /// The CPUs in `Cpus_allowed_list:` of `/proc/self/status` ("0-3,8,10-11" is 7).
    static func affinity(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        var count = 0
        for range in line.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
            let ends = range.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(ends.count), let low = ends.first ?? nil, let high = ends.last ?? nil, high >= low else { return nil }
            count += high - low + 1
        }
        return count > 0 ? count : nil
    }

    /// The tightest cgroup v2 quota, rounded up to whole CPUs, from this process's cgroup
    /// (`0::/path` in `/proc/self/cgroup`) up to the root; `nil` when none is set.
    static func quota(cgroup: String, readQuota: (String) -> String?) -> Int? {
        guard let line = cgroup.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        var path = String(line.dropFirst(3))
        if path.isEmpty { path = "/" }
        var tightest: Int?
        while true {
            if let text = readQuota(path) {
                // "QUOTA PERIOD" in microseconds, or "max PERIOD" for none.
                let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
                if fields.count >= 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 {
                    tightest = min(tightest ?? Int.max, (quota + period - 1) / period)
                }
            }
            guard path != "/", let slash = path.lastIndex(of: "/") else { break }
            path = slash == path.startIndex ? "/" : String(path[..<slash])
        }
        return tightest
    }
}
