@testable import DeputyServer
import Testing

@Suite("Threads sized from the CPUs the process may use")
struct UsableCoresTests {
    @Test("the affinity mask of /proc/self/status counts its CPUs")
    func affinity() {
        #expect(UsableCores.affinity(status: "Name:\tdeputyd\nCpus_allowed_list:\t0-3,8,10-11\nMems_allowed:\t1\n") == 7)
        #expect(UsableCores.affinity(status: "Cpus_allowed_list:\t5\n") == 1)
        #expect(UsableCores.affinity(status: "Cpus_allowed_list:\t3-1\n") == nil)
        #expect(UsableCores.affinity(status: "Name:\tdeputyd\n") == nil)
    }

    @Test("the tightest cgroup v2 quota from the process's cgroup to the root, rounded up")
    func quota() {
        let files = [
            "/": "max 100000\n",
            "/system.slice": "max 100000\n",
            "/system.slice/deputyd.service": "250000 100000\n",
        ]
        #expect(UsableCores.quota(cgroup: "0::/system.slice/deputyd.service\n", readQuota: { files[$0] }) == 3)
        let nested = ["/kubepods": "400000 100000\n", "/kubepods/pod1": "max 100000\n", "/kubepods/pod1/c1": "150000 100000\n"]
        #expect(UsableCores.quota(cgroup: "0::/kubepods/pod1/c1\n", readQuota: { nested[$0] }) == 2)
        #expect(UsableCores.quota(cgroup: "0::/\n", readQuota: { _ in "max 100000\n" }) == nil)
        #expect(UsableCores.quota(cgroup: "1:cpu:/legacy\n", readQuota: { _ in "100000 100000\n" }) == nil)
    }

    @Test("the count is the mask capped by the quota, and at least 1")
    func count() {
        let status = "Cpus_allowed_list:\t0-11\n"
        #expect(UsableCores.count(online: 16, status: status, cgroup: nil, readQuota: { _ in nil }) == 12)
        #expect(UsableCores.count(online: 16, status: status, cgroup: "0::/a\n", readQuota: { $0 == "/a" ? "400000 100000" : nil }) == 4)
        #expect(UsableCores.count(online: 16, status: nil, cgroup: nil, readQuota: { _ in nil }) == 16)
        #expect(UsableCores.count(online: 16, status: status, cgroup: "0::/a\n", readQuota: { _ in "1000 100000" }) == 1)
    }
}
