import DeputyFuzzing
import Foundation
import Testing

/// Every seed of the fuzz corpus through its target, in a plain build: the seeds stay
/// inputs the parsers take without crashing or breaking a property, and a fixed crash's
/// input, once added to the corpus, stays fixed. (The sanitizer runs are scripts/fuzz.)
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("each target returns on every seed", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        let corpus = Self.root.appendingPathComponent("fuzz/corpus/\(target.rawValue)")
        let seeds = try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
        #expect(!seeds.isEmpty)
        for seed in seeds {
            target.run(Array(try Data(contentsOf: seed)))
        }
    }

    @Test("the corpus has a directory for every target and no other")
    func corpusMatchesTargets() throws {
        let directories = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("fuzz/corpus").path)
        #expect(Set(directories) == Set(FuzzTarget.allCases.map(\.rawValue)))
    }
}
