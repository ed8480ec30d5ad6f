import DeputyServer
import Foundation
import Testing

/// docs/configuration.md's table of settings is the code's: every setting, its variable,
/// its default and whether a reload applies it.
@Suite("Configuration document")
struct ConfigurationDocumentTests {
    @Test("Each setting has one row that matches its name, variable, default and effect")
    func tableMatchesCode() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        var rows: [String: [String]] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            rows[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells
        }
        #expect(Set(rows.keys) == Set(Setting.allCases.map(\.name)))
        for setting in Setting.allCases {
            let cells = try #require(rows[setting.name], "no row for \(setting.name)")
            #expect(cells[1] == "`\(setting.environmentName)`")
            let expectedDefault: String = switch (setting.defaultValue, setting.kind) {
            case (nil, _): "—"
            case (let value?, .count), (let value?, .seconds): "`\(value)`"
            case (let value?, _): "`\"\(value)\"`"
            }
            #expect(cells[2] == expectedDefault, "\(setting.name)")
            #expect(cells[3] == (setting.effect == .reload ? "reload" : "restart"), "\(setting.name)")
            #expect(cells[4] == setting.help, "\(setting.name)")
        }
    }
}
