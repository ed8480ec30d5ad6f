import DeputyCore
import DeputyProtocol
import Foundation

/// Turns what a person typed into the protocol's typed values, with a usage error that
/// names what is wrong (the same words the server would answer with).
enum ArgumentValues {
    static func address(_ text: String, _ what: String) throws -> EmailAddress {
        guard let address = EmailAddress(text) else { throw CLIError(.usage, "\(what) is not a valid mail address") }
        return address
    }

    static func addresses(_ texts: [String], _ what: String) throws -> [EmailAddress] {
        try texts.flatMap { $0.split(separator: ",").map(String.init) }.map { try address($0, what) }
    }

    static func optionalAddress(_ text: String?, _ what: String) throws -> EmailAddress? {
        try text.map { try address($0, what) }
    }

    static func service(_ text: String) throws -> ServiceName {
        guard let name = ServiceName(text) else {
            throw CLIError(.usage, "a service name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter: \(text)")
        }
        return name
    }

    /// `yes`/`no` (or `on`/`off`) for `--option`.
    static func yesNo(_ text: String?, option: String) throws -> Bool? {
        guard let text else { return nil }
        switch text.lowercased() {
        case "yes", "on": return true
        case "no", "off": return false
        case let other: throw CLIError(.usage, "--\(option) takes yes or no (on or off), not \(other)")
        }
    }

    static func role(_ text: String) throws -> Request.RoleName {
        guard let role = Request.RoleName(text) else {
            throw CLIError(.usage, "the role is admin, superadmin or one of \(CustomAdminRole.allCases.map(\.rawValue).joined(separator: ", ")), not \(text)")
        }
        return role
    }

    static func permissions(_ text: String) throws -> PermissionSet {
        guard let permissions = PermissionSet(parsing: text) else {
            throw CLIError(.usage, "--permissions is a comma list of read, manage, sendonbehalf, sendas, not \(text)")
        }
        return permissions
    }

    static func time(_ text: String?, option: String) throws -> Date? {
        guard let text else { return nil }
        guard let time = Timestamp.parse(text) else {
            throw CLIError(.usage, "--\(option) must be an RFC 3339 time such as 2026-12-31T00:00:00Z, not \(text)")
        }
        return time
    }

    static func groupLevel(_ text: String?, option: String) throws -> GroupCreationLevel? {
        guard let text else { return nil }
        guard let level = GroupCreationLevel(rawValue: text) else {
            throw CLIError(.usage, "--\(option) takes \(GroupCreationLevel.allCases.map(\.rawValue).joined(separator: ", ")), not \(text)")
        }
        return level
    }

    static func groupKind(_ text: String?) throws -> GroupKind {
        guard let text else { return .organization }
        guard let kind = GroupKind(rawValue: text) else { throw CLIError(.usage, "--kind takes organization or personal, not \(text)") }
        return kind
    }

    /// A setting that an empty value clears.
    static func update(_ text: String?) -> FieldUpdate<String>? {
        text.map { $0.isEmpty ? .clear : .set($0) }
    }

    /// A search filter, checked here as the server would.
    static func search(_ text: String, limit: Int? = nil, offset: Int = 0) throws -> Request.SearchQuery {
        do {
            return try Request.SearchQuery(text, limit: limit, offset: offset)
        } catch {
            throw CLIError(.usage, "filter: \(error.message)")
        }
    }
}
