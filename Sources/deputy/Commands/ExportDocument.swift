import DeputyProtocol
import Foundation

/// What `deputy export` writes as JSON, and reads back with `--from`:
///
/// ```json
/// { "organization": { "dn": "dc=example,dc=test", "domain": ["example.test", "example.org"], ... },
///   "entries": [ { "dn": "...", "objectclass": ["top", "person", ...], "cn": "Alice", ... } ],
///   "delegations": [ { "id": "5", "permissions": ["read", "sendas"], ... } ],
///   "policies": [ { "policy": "default", "delegation": "on", "default": "yes" } ],
///   "spam": { "allowsenders": [], "spf": "reject", ... } }
/// ```
///
/// Each record holds the fields of the server's reply record: a key the record repeats
/// becomes a list, and so do the fields the protocol writes as comma lists. Keys that could
/// name a secret are dropped, whatever the source.
struct ExportDocument: Codable, Equatable {
    var organization: Record
    var entries: [Record]
    var delegations: [Record]
    var policies: [Record]
    var spam: Record

    typealias Record = [String: Value]

    /// One field: a single value, or several.
    enum Value: Codable, Equatable {
        case single(String)
        case list([String])

        var values: [String] {
            switch self {
            case .single(let value): [value]
            case .list(let values): values
            }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(String.self) {
                self = .single(value)
            } else {
                self = .list(try container.decode([String].self))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .single(let value): try container.encode(value)
            case .list(let values): try container.encode(values)
            }
        }
    }

    /// Fields the protocol writes as comma lists (`permissions=read,sendas`), exported as lists.
    static let delegationLists: Set<String> = ["permissions"]
    static let spamLists: Set<String> = ["allowsenders", "blocksenders", "allowdomains", "blockdomains"]

    /// Whether a field or attribute name could hold a password, a hash or another secret.
    /// The protocol sends none; this keeps one from ever reaching an export.
    static func isSecret(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return ["password", "passwd", "secret", "hash"].contains { lowered.contains($0) }
    }

    /// A reply record as an export record; `lists` names the comma-list fields.
    static func record(_ reply: ReplyRecord, lists: Set<String> = []) -> Record {
        var record: Record = [:]
        for field in reply.fields where !isSecret(field.key) {
            if lists.contains(field.key) {
                let items = field.value.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
                record[field.key] = .list((record[field.key]?.values ?? []) + items)
            } else if let existing = record[field.key] {
                record[field.key] = .list(existing.values + [field.value])
            } else {
                record[field.key] = .single(field.value)
            }
        }
        return record
    }

    /// The document without any field whose name could hold a secret.
    func withoutSecrets() -> ExportDocument {
        func clean(_ record: Record) -> Record { record.filter { !Self.isSecret($0.key) } }
        return ExportDocument(
            organization: clean(organization), entries: entries.map(clean), delegations: delegations.map(clean),
            policies: policies.map(clean), spam: clean(spam)
        )
    }

    // MARK: - Formats

    /// Pretty-printed, keys sorted, so that two exports diff line by line; ends with a newline.
    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// The entries as LDIF: in document order, each with `dn` first, then `objectclass`, then
    /// the other attributes by name.
    func ldif() throws -> String {
        let ldifEntries = try entries.enumerated().map { index, record in
            guard case .single(let dn)? = record["dn"] else {
                throw CLIError(.configuration, "entry \(index + 1) of the export has no single dn")
            }
            let names = record.keys.filter { $0 != "dn" }.sorted { a, b in
                a == "objectclass" ? b != "objectclass" : (b == "objectclass" ? false : a < b)
            }
            return LDIFWriter.Entry(distinguishedName: dn, attributes: names.map { ($0, record[$0]!.values) })
        }
        do {
            return try LDIFWriter.document(ldifEntries)
        } catch {
            throw CLIError(.configuration, "can't write the entries as LDIF: \(error)")
        }
    }

    /// An earlier JSON export.
    static func load(_ path: String) throws -> ExportDocument {
        let data = try LocalFile.read(path, "the export")
        do {
            return try JSONDecoder().decode(ExportDocument.self, from: data).withoutSecrets()
        } catch {
            throw CLIError(.configuration, "\(path) is not a deputy JSON export", detail: "\(error)")
        }
    }
}
