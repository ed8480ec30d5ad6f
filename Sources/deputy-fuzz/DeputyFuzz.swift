import DeputyFuzzing
import Foundation

// Two builds of one program:
//
// - With `-sanitize=fuzzer,address -DFUZZING` (scripts/fuzz) `main` hands over to
//   libFuzzer's driver, which calls the entry point below with inputs of its own;
//   DEPUTY_FUZZ_TARGET names the parser to fuzz.
// - Otherwise it is `deputy-fuzz TARGET FILE-OR-DIRECTORY...`, which runs the target over
//   given inputs (a seed corpus, or a crash to reproduce) and exits 0 when all returned.

/// The target named by DEPUTY_FUZZ_TARGET, read once.
let environmentTarget: FuzzTarget? = ProcessInfo.processInfo.environment["DEPUTY_FUZZ_TARGET"].flatMap(FuzzTarget.init(rawValue:))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let target = environmentTarget else {
        fatalError("set DEPUTY_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    let input = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    target.run(input)
    return 0
}

#if FUZZING
/// libFuzzer's driver, for programs with a `main` of their own (SwiftPM gives every
/// executable one). Declared here because no Swift module exports it; its arguments are
/// three pointers and its result an int, passed the same way by Swift and C on the
/// platforms the fuzzer runs on.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt

@main
enum DeputyFuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { start, count in fuzzOneInput(start, count) })
    }
}
#else
@main
enum DeputyFuzzReplay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            print("usage: deputy-fuzz TARGET FILE-OR-DIRECTORY...   targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))")
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                print("no such file: \(path)")
                exit(2)
            }
            let files = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { (path as NSString).appendingPathComponent($0) }
                : [path]
            for file in files {
                target.run(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
                count += 1
            }
        }
        print("\(target.rawValue): \(count) inputs, all returned")
    }
}
#endif
