import DeputyProtocol
import DeputyStore
import Foundation

/// The configuration file: one JSON object whose keys are setting names (see ``Setting``)
/// and whose values are strings, numbers or, for lists, arrays of strings. Keys beginning
/// with `_` are comments. Every error names the file, line and column.
public enum ConfigurationFile {
    /// The environment variable that names the file when `--config` is not given.
    public static let environmentName = "DEPUTY_CONFIG"

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(SettingsError) -> [Setting: SettingValue] {
        let data: Data
        do {
            data = Data(try PosixFileSystem().readFile(path))
        } catch {
            throw SettingsError("\(path): cannot read the configuration file: \(StorageFileSystemError.explanation(error.errorNumber))")
        }
        return try parse(data, path: path)
    }

    /// Checks `data`, the contents of the file at `path`.
    public static func parse(_ data: Data, path: String) throws(SettingsError) -> [Setting: SettingValue] {
        guard let text = String(data: data, encoding: .utf8) else { throw SettingsError("\(path): not UTF-8 text") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw SettingsError("\(path):\(syntaxPosition(of: error, in: text)): not valid JSON (\(syntaxReason(of: error)))")
        }
        guard let settings = object as? [String: Any] else {
            throw SettingsError("\(path):1: the file must hold one JSON object of settings, {\"listen\": \"0.0.0.0:7636\", ...}")
        }
        var values: [Setting: SettingValue] = [:]
        let written = topLevelKeys(in: text)
        // In the order of the file, so that the first mistake is the one reported.
        let keys = settings.keys.sorted { written[$0]?.first ?? 0 < written[$1]?.first ?? 0 }
        for key in keys where !key.hasPrefix("_") {
            let positions = written[key] ?? []
            let line = positions.first.map { TextPosition.of(utf8Offset: $0, in: text).line } ?? 1
            guard let setting = Setting(rawValue: key) else {
                let hint = suggestion(for: key).map { "; did you mean \"\($0.name)\"?" } ?? "; the settings are listed by deputyd serve --help"
                throw SettingsError("\(path):\(line): unknown setting \"\(OneLineLogHandler.escape(key))\"\(hint)")
            }
            if positions.count > 1 {
                let again = TextPosition.of(utf8Offset: positions[1], in: text).line
                throw SettingsError("\(path):\(again): \(key) is given twice (first on line \(line))")
            }
            let place = "\(path):\(line): \(key)"
            guard let texts = try texts(of: settings[key]!, for: setting, at: place) else { continue }
            values[setting] = SettingValue(texts, source: .file(path: path, line: line))
        }
        return values
    }

    /// The value as the resolver's texts; `nil` for JSON `null` (the default applies).
    private static func texts(of value: Any, for setting: Setting, at place: String) throws(SettingsError) -> [String]? {
        if value is NSNull { return nil }
        let number = value as? NSNumber
        // Foundation reads true and false as numbers whose type code is "c".
        let isBoolean = number.map { String(cString: $0.objCType) == "c" } ?? false
        switch setting.kind {
        case .count:
            guard let number, !isBoolean, let whole = Int(exactly: number.doubleValue), whole >= 1 else {
                throw SettingsError("\(place): expected a whole number of at least 1, like \(setting.defaultValue ?? "10")")
            }
            return [String(whole)]
        case .seconds:
            guard let number, !isBoolean, number.doubleValue > 0 else {
                throw SettingsError("\(place): expected a number of seconds above 0, like \(setting.defaultValue ?? "30")")
            }
            let seconds = number.doubleValue
            guard seconds <= Setting.maximumSeconds else {
                throw SettingsError("\(place): expected at most \(Int(Setting.maximumSeconds)) seconds (ten years), not \(number)")
            }
            return [seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)]
        case .choice(let words):
            guard let text = value as? String, words.contains(text) else {
                throw SettingsError("\(place): expected one of \"\(words.joined(separator: "\", \""))\"")
            }
            return [text]
        case .autoOrCount:
            if let number, !isBoolean, let whole = Int(exactly: number.doubleValue) { return [String(whole)] }
            guard let text = value as? String, number == nil else { throw SettingsError("\(place): expected \"auto\" or a whole number") }
            return [text]
        case .text:
            guard let text = value as? String, number == nil else { throw SettingsError("\(place): expected a string, in quotes") }
            return [text]
        case .list:
            if let text = value as? String, number == nil { return [text] }
            guard let array = value as? [Any], let texts = array as? [String], !array.contains(where: { $0 is NSNumber }) else {
                throw SettingsError("\(place): expected an array of strings, like \(setting == .tcpTable ? "[\"senders=127.0.0.1:10041\", ...]" : "[\"db1.example.org:5432\", ...]")")
            }
            return texts
        }
    }

    // MARK: - Positions

    /// Every key of the top-level object, with the byte offsets of its opening quote. Keys
    /// of nested objects and text inside strings are not keys of the file.
    static func topLevelKeys(in text: String) -> [String: [Int]] {
        let bytes = Array(text.utf8)
        var keys: [String: [Int]] = [:]
        var depth = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let start = index
                index += 1
                var content: [UInt8] = []
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                        content.append(bytes[index])
                        index += 1
                    }
                    content.append(bytes[index])
                    index += 1
                }
                index += 1
                guard depth == 1 else { continue }
                var after = index
                while after < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[after]) { after += 1 }
                if after < bytes.count, bytes[after] == UInt8(ascii: ":"),
                   let decoded = try? JSONSerialization.jsonObject(with: Data([UInt8(ascii: "\"")] + content + [UInt8(ascii: "\"")]), options: .fragmentsAllowed) as? String {
                    keys[decoded, default: []].append(start)
                }
                continue
            }
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
            if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") { depth -= 1 }
            index += 1
        }
        return keys
    }

    /// `LINE:COLUMN` from Foundation's "around character N" (or `1` when it gives none).
    private static func syntaxPosition(of error: any Error, in text: String) -> String {
        TextPosition.of(parserMessage: syntaxReason(of: error), in: text).map { "\($0.line):\($0.column)" } ?? "1"
    }

    private static func syntaxReason(of error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }

    /// The setting a mistyped key most likely meant: at most two edits away.
    static func suggestion(for key: String) -> Setting? {
        guard let name = NearestWord.among(Setting.allCases.map(\.name), to: key) else {
            return Setting.allCases.first { key.lowercased().replacingOccurrences(of: "_", with: "-") == $0.name }
        }
        return Setting.allCases.first { $0.name == name }
    }
}
