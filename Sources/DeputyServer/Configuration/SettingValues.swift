import Foundation

/// Where a setting's value came from.
public enum SettingSource: Sendable, Equatable {
    case flag
    case environment
    case file(path: String, line: Int)
    case defaultValue

    /// How an error message names the place: `--listen`, `DEPUTY_LISTEN`, `deputyd.json:4`.
    func place(of setting: Setting) -> String {
        switch self {
        case .flag: "--\(setting.name)"
        case .environment: setting.environmentName
        case .file(let path, let line): "\(path):\(line): \(setting.name)"
        case .defaultValue: "the default of \(setting.name)"
        }
    }

    /// One word for `--print-config`.
    public var label: String {
        switch self {
        case .flag: "flag"
        case .environment: "environment"
        case .file(let path, let line): "\(path):\(line)"
        case .defaultValue: "default"
        }
    }
}

/// A setting's value, as text, and where it came from. Scalars hold one text; lists any number.
public struct SettingValue: Sendable, Equatable {
    public var texts: [String]
    public var source: SettingSource

    public init(_ texts: [String], source: SettingSource) {
        self.texts = texts
        self.source = source
    }
}

/// A configuration that can't be used, with the place that says so.
public struct SettingsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Every setting's value after precedence: command-line flag, then environment variable,
/// then configuration file, then default.
public struct SettingValues: Sendable, Equatable, CustomStringConvertible {
    public private(set) var values: [Setting: SettingValue]

    /// Every setting that has a value, `name=value`, secrets redacted: a setting's value
    /// must never reach a log through a description.
    public var description: String {
        Setting.allCases.compactMap { setting in
            values[setting].map { "\(setting.name)=\(setting.isSecret ? "<redacted>" : $0.texts.joined(separator: ","))" }
        }.joined(separator: " ")
    }

    /// Resolves the sources. `flags` holds the flags given on the command line; every
    /// `DEPUTY_*` variable of `environment` that names a setting counts; `file` comes from
    /// ``ConfigurationFile``.
    public init(flags: [Setting: [String]], environment: [String: String], file: [Setting: SettingValue] = [:]) {
        var values: [Setting: SettingValue] = [:]
        for setting in Setting.allCases {
            if let given = flags[setting], !given.isEmpty {
                values[setting] = SettingValue(given, source: .flag)
            } else if let text = environment[setting.environmentName], !text.isEmpty {
                let texts = if case .list = setting.kind {
                    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                } else {
                    [text]
                }
                values[setting] = SettingValue(texts, source: .environment)
            } else if let fromFile = file[setting] {
                values[setting] = fromFile
            } else if let text = setting.defaultValue {
                values[setting] = SettingValue([text], source: .defaultValue)
            }
        }
        self.values = values
    }

    /// `DEPUTY_*` variables that name no setting: most likely a typing mistake.
    public static func unknownEnvironmentNames(in environment: [String: String]) -> [String] {
        let known = Set(Setting.allCases.map(\.environmentName) + [ConfigurationFile.environmentName])
        return environment.keys.filter { $0.hasPrefix("DEPUTY_") && !known.contains($0) }.sorted()
    }

    public subscript(setting: Setting) -> SettingValue? { values[setting] }

    /// The setting's text, or `nil` when it is off.
    public func text(_ setting: Setting) -> String? { values[setting]?.texts.first }

    /// Every text of a list setting.
    public func list(_ setting: Setting) -> [String] { values[setting]?.texts ?? [] }

    /// A whole number of at least 1.
    public func count(_ setting: Setting) throws(SettingsError) -> Int {
        guard let value = values[setting], let text = value.texts.first else { throw SettingsError("\(setting.name) has no value") }
        guard Self.isDecimal(text, fraction: false), let number = Int(text), number >= 1 else {
            throw SettingsError("\(value.source.place(of: setting)): expected a whole number of at least 1, not \(Self.quoted(text))")
        }
        return number
    }

    /// A number of seconds above 0.
    public func seconds(_ setting: Setting) throws(SettingsError) -> Double {
        guard let value = values[setting], let text = value.texts.first else { throw SettingsError("\(setting.name) has no value") }
        guard Self.isDecimal(text, fraction: true), let number = Double(text), number > 0, number.isFinite else {
            throw SettingsError("\(value.source.place(of: setting)): expected a number of seconds above 0, not \(Self.quoted(text))")
        }
        guard number <= Setting.maximumSeconds else {
            throw SettingsError("\(value.source.place(of: setting)): expected at most \(Int(Setting.maximumSeconds)) seconds (ten years), not \(Self.quoted(text))")
        }
        return number
    }

    /// Digits, with one decimal point between digits where `fraction` allows: what a JSON
    /// number without sign or exponent looks like. Swift's parsers also take `+300`, `300.`,
    /// `.5` and hexadecimal (`0x10`), which `--print-config` would then write into a file
    /// that no longer parses.
    static func isDecimal(_ text: String, fraction: Bool) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || (fraction && parts.count == 2) else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }
    }

    /// One of the setting's words.
    public func choice(_ setting: Setting) throws(SettingsError) -> String {
        guard let value = values[setting], let text = value.texts.first else { throw SettingsError("\(setting.name) has no value") }
        guard case .choice(let words) = setting.kind, words.contains(text) else {
            throw SettingsError("\(value.source.place(of: setting)): \(Self.quoted(text)) is not one of \(Self.words(setting))")
        }
        return text
    }

    /// An error naming where the setting's value came from.
    public func error(_ setting: Setting, _ message: String) -> SettingsError {
        SettingsError("\(values[setting]?.source.place(of: setting) ?? setting.name): \(message)")
    }

    static func quoted(_ text: String) -> String {
        "\"" + OneLineLogHandler.escape(text) + "\""
    }

    static func words(_ setting: Setting) -> String {
        guard case .choice(let words) = setting.kind else { return "" }
        return words.joined(separator: ", ")
    }
}
