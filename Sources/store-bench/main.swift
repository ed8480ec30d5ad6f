import DeputyBenchData
import DeputyCore
import DeputyStore
import Foundation

// Times the store on the real file system, in a temporary directory:
//   1. import, open (snapshot load) and snapshot save of a large directory;
//   2. opening with a long journal to replay;
//   3. durable commits from many concurrent writers.
//
//   swift build -c release --product store-bench
//   .build/release/store-bench [--users 100000] [--groups 10000] [--delegations 200000]
//       [--journal-records 1000000] [--writers 50] [--commits 100000]

// `store-bench open DIR`: only open the store at DIR, as a daemon starting, and report it.
// The main run uses it to time a load in a process of its own: a process that has just
// built and freed a large directory allocates more slowly than a starting daemon does.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "open" {
    let (store, timing) = try await measureAsync { try await Store.open(path: CommandLine.arguments[2]) }
    report("load in a new process: open with the snapshot (read, decode, build indexes)", timing, target: "< 2 s")
    withExtendedLifetime(store) {
        print("   resident memory afterwards: \(residentMebibytes()) MiB")
    }
    exit(0)
}

let options = BenchOptions(CommandLine.arguments.dropFirst())
let root = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
// STORE_BENCH_KEEP=1 keeps the files, to profile `store-bench open` on them afterwards.
defer { if ProcessInfo.processInfo.environment["STORE_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: root) } }
let hash = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000)).hash("bench")
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage()); files in \(root)")

// MARK: - 1. Snapshot save and load

do {
    let importFile = root + "/import.json"
    do {
        // Its own scope, so the dataset is freed before the load is timed.
        let dataset = BenchDataset(users: options.users, groups: options.groups, delegations: options.delegations)
        let contents = dataset.contents(passwordHash: hash)
        print("\n== snapshot: \(options.users) users, \(options.groups) groups, \(contents.delegations.count) delegations")
        try ImportFile(directory: contents).write(to: importFile)
    }

    let data = root + "/snapshot-data"
    let (_, importTime) = try measure { try Store.importSnapshot(from: importFile, into: data, dryRun: false) }
    report("import (parse, validate, consistency check, write snapshot)", importTime)
    try FileManager.default.removeItem(atPath: importFile)

    // Twice, as a daemon restarted twice: the spread between the two is the machine's noise.
    for _ in 0..<2 {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["open", data]
        try child.run()
        child.waitUntilExit()
    }

    let (store, openTime) = try await measureAsync { try await Store.open(path: data) }
    let snapshotBytes = (try FileManager.default.attributesOfItem(atPath: data + "/snapshot.json")[.size] as? Int) ?? 0
    report("load again in this process (its heap is full of the dataset's leftovers)", openTime)
    print("   snapshot.json: \(snapshotBytes / 1_048_576) MiB")

    let directory = store.directory
    let (_, buildTime) = try measure { try Directory(contents: directory.contents) }
    report("   Directory(contents:) again from the loaded directory's contents (core)", buildTime)
    let (_, checkTime) = measure { directory.integrityProblems() }
    report("   integrityProblems() (core; recovery runs it only after replaying records)", checkTime)

    let (summary, saveTime) = try await measureAsync { try await store.snapshot() }
    report("save: snapshot (encode, write, fsync, rename, fsync directory, cut journal)", saveTime, target: "< 1 s")
    print("   \(summary.bytes / 1_048_576) MiB written")
    try await store.close()
}

// MARK: - 2. Start-up with a long journal

do {
    let records = options.journalRecords
    print("\n== start-up with a journal of \(records) records")
    let data = root + "/journal-data"
    let store = try await Store.open(path: data, configuration: StoreConfiguration(snapshotEveryRecords: .max, snapshotEverySeconds: .infinity))
    let commands = JournalWorkload(records: records, hash: hash)
    _ = try await store.commit(commands.createOrganization, context: commands.context)
    let (_, fillTime) = try await measureAsync {
        try await runWriters(store: store, writers: 200, total: records - 1) { index in commands.command(index) }
    }
    let statistics = await store.currentStatistics
    report("filling it (200 writers, \(statistics.batches) fsyncs)", fillTime)
    // The store is left open, not closed: close would snapshot and cut the journal. Its
    // files are copied, as they are on disk, and the copy opened, as a daemon starting after
    // a crash would: the open store keeps the directory's lock.
    let journalBytes = (try FileManager.default.attributesOfItem(atPath: data + "/journal.log")[.size] as? Int) ?? 0
    print("   journal.log: \(journalBytes / 1_048_576) MiB")
    let copy = root + "/journal-data-copy"
    try FileManager.default.copyItem(atPath: data, toPath: copy)
    let (reopened, replayTime) = try await measureAsync { try await Store.open(path: copy) }
    report("open, replaying \(reopened.recovery.replayedRecords) records", replayTime)
    print(String(format: "   %.0f records/s", Double(reopened.recovery.replayedRecords) / replayTime.wall.seconds))
    try await reopened.close()
}

// MARK: - 3. Durable commit throughput

do {
    let writers = options.writers
    let total = options.commits
    print("\n== durable commits: \(writers) concurrent writers, \(total) commits")
    let data = root + "/commit-data"
    let store = try await Store.open(path: data)
    let commands = JournalWorkload(records: total, hash: hash)
    _ = try await store.commit(commands.createOrganization, context: commands.context)
    let before = await store.currentStatistics
    let (_, time) = try await measureAsync {
        try await runWriters(store: store, writers: writers, total: total) { index in commands.command(index) }
    }
    let after = await store.currentStatistics
    let batches = after.batches - before.batches
    report("\(total) commits", time)
    print(String(format: "   %.0f durable commits/s (target >= 5,000); %d fsyncs, %.1f commits per fsync", Double(total) / time.wall.seconds, batches, Double(total) / Double(max(batches, 1))))
    try await store.close()
}

// MARK: - Helpers

/// Runs `total` commits from `writers` concurrent tasks, each taking the next index.
func runWriters(store: Store, writers: Int, total: Int, command: @escaping @Sendable (Int) -> Command) async throws {
    let context = JournalWorkload.systemContext
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                var index = writer
                while index < total {
                    let outcome = try await store.commit(command(index), context: context)
                    if case .failure(let error) = outcome.result { throw error }
                    index += writers
                }
            }
        }
        try await group.waitForAll()
    }
}

/// Wall-clock time and the CPU time the process spent meanwhile, on every core.
struct Timing {
    let wall: Duration
    let cpu: Double
}

func measure<T>(_ body: () throws -> T) rethrows -> (T, Timing) {
    let start = ContinuousClock.now
    let cpu = processCPUTime()
    let value = try body()
    return (value, Timing(wall: ContinuousClock.now - start, cpu: processCPUTime() - cpu))
}

func measureAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Timing) {
    let start = ContinuousClock.now
    let cpu = processCPUTime()
    let value = try await body()
    return (value, Timing(wall: ContinuousClock.now - start, cpu: processCPUTime() - cpu))
}

func report(_ what: String, _ timing: Timing, target: String? = nil) {
    print(String(format: "%@: %.3f s (CPU %.3f s)", what, timing.wall.seconds, timing.cpu) + (target.map { ", target \($0)" } ?? ""))
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The process's resident memory, from /proc.
func residentMebibytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kibibytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kibibytes / 1024
}

/// The one-minute load average, to tell a busy machine's figures from an idle one's.
func loadAverage() -> String {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? String(format: "%.2f", loads[0]) : "unknown"
}
