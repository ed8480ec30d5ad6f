import Foundation

/// One entry of the audit log: a change, or a refused change.
public struct AuditRecord: Hashable, Codable, Sendable {
    /// The outcome of the command.
    public enum Outcome: Hashable, Codable, Sendable {
        /// Applied.
        case applied
        /// Refused with a code and, where one applies, the rule.
        case refused(code: DirectoryError.Code, rule: Rule?)
    }

    /// The position in the log, from 1.
    public let sequence: UInt64
    /// When it happened.
    public let time: Date
    /// Who acted, as a login (`alice@acme.test`, a service name, or `system`).
    public let actor: String
    /// The identity of the actor, for tracing grants.
    public let actorPrincipal: Principal
    /// The command's name, for example `grant-role`.
    public let action: String
    /// What it acted on, for example `bob@acme.test`.
    public let target: String
    /// Further details, for example the role or permissions given. Never a password.
    public let detail: String
    /// The outcome.
    public let outcome: Outcome

    /// Creates a record.
    public init(
        sequence: UInt64, time: Date, actor: String, actorPrincipal: Principal, action: String,
        target: String, detail: String, outcome: Outcome
    ) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.actorPrincipal = actorPrincipal
        self.action = action
        self.target = target
        self.detail = detail
        self.outcome = outcome
    }
}
