import DeputyMailAdapters
import ArgumentParser

/// The load generator and benchmarks of Deputy.
@main
struct DeputyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deputy-bench",
        abstract: "Measure Deputy: the directory's queries in process, and the daemon under load.",
        subcommands: [LoadBenchmark.self, CoreBenchmark.self, SocketmapBenchmark.self, GuessBenchmark.self]
    )
}
