import DeputyCore

/// How many entries of each kind a directory holds, for reports.
public struct DirectoryCounts: Hashable, Sendable, CustomStringConvertible {
    /// Users, the super administrator included.
    public var users: Int
    /// Groups, organisation and personal.
    public var groups: Int
    /// Service accounts.
    public var serviceAccounts: Int
    /// Mailbox delegations.
    public var delegations: Int
    /// Email policies.
    public var policies: Int
    /// Records in the audit log.
    public var auditRecords: Int

    /// Counts the entries of `directory`.
    public init(_ directory: Directory) {
        users = directory.users.count
        groups = directory.groups.count
        serviceAccounts = directory.services.count
        delegations = directory.delegations.count
        policies = directory.policies.count
        auditRecords = directory.auditLog.count
    }

    /// `3 users, 1 group, 0 service accounts, ...`.
    public var description: String {
        [
            (users, "user"), (groups, "group"), (serviceAccounts, "service account"), (delegations, "delegation"),
            (policies, "policy"), (auditRecords, "audit record"),
        ].map { count, noun in
            "\(count) \(count == 1 ? noun : noun == "policy" ? "policies" : noun + "s")"
        }.joined(separator: ", ")
    }
}
