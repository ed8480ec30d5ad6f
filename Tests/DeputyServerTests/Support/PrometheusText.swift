import Foundation

/// The Prometheus text exposition format (version 0.0.4), parsed strictly enough to catch a
/// malformed exposition: every sample line is `name{label="value",...} number`, and every
/// sample belongs to a family declared by a `# TYPE` line before it.
struct PrometheusText {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    private(set) var samples: [Sample] = []
    private(set) var types: [String: String] = [:]

    init(_ text: String) throws {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                if parts.count >= 4, parts[1] == "TYPE" {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw TestFailure("line \(number + 1): unknown type \(parts[3])")
                    }
                    types[parts[2]] = parts[3]
                }
                continue
            }
            let sample = try Self.sample(String(line), line: number + 1)
            let family = ["_bucket", "_sum", "_count"].reduce(sample.name) { name, suffix in
                name.hasSuffix(suffix) && types[name] == nil ? String(name.dropLast(suffix.count)) : name
            }
            guard types[family] != nil || types[sample.name] != nil else {
                throw TestFailure("line \(number + 1): \(sample.name) has no # TYPE line before it")
            }
            samples.append(sample)
        }
    }

    /// The value of the sample with exactly these labels.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    func type(of family: String) -> String? { types[family] }

    private static func sample(_ line: String, line number: Int) throws -> Sample {
        var characters = Substring(line)
        let name = characters.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard let first = name.first, !first.isNumber else { throw TestFailure("line \(number): no metric name in \(line)") }
        characters = characters.dropFirst(name.count)
        var labels: [String: String] = [:]
        if characters.first == "{" {
            characters = characters.dropFirst()
            while characters.first != "}" {
                let key = characters.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                characters = characters.dropFirst(key.count)
                guard !key.isEmpty, characters.hasPrefix("=\"") else { throw TestFailure("line \(number): bad label in \(line)") }
                characters = characters.dropFirst(2)
                var value = ""
                while let character = characters.first, character != "\"" {
                    characters = characters.dropFirst()
                    if character == "\\" {
                        guard let escaped = characters.first else { break }
                        characters = characters.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard characters.first == "\"" else { throw TestFailure("line \(number): unterminated label value in \(line)") }
                characters = characters.dropFirst()
                labels[String(key)] = value
                if characters.first == "," { characters = characters.dropFirst() }
            }
            characters = characters.dropFirst()
        }
        let fields = characters.split(separator: " ")
        guard (1...2).contains(fields.count), let value = Double(fields[0]) ?? (fields[0] == "+Inf" ? .infinity : nil) else {
            throw TestFailure("line \(number): no value in \(line)")
        }
        return Sample(name: String(name), labels: labels, value: value)
    }
}
