import DeputyCore
import Foundation

/// Writes the records ``TapeCommandReader`` reads (the commonest commands) straight into
/// JSON, byte for byte as ``StorageJSONEncoder`` writes them through `Codable`, whose generic
/// containers cost most of an encoding: as ``SnapshotListWriter`` does for a snapshot's
/// lists. Returns `nil` for a record it does not handle (and for a date outside what the
/// encoder can write), which is then encoded through `Codable`.
///
/// The bytes must be the encoder's own: a node that checks a record reads it back, and the
/// tests compare both encodings of random records.
struct CommandRecordWriter: JSONOutputWriting {
    let output = JSONOutput(expandedDepth: 0, capacity: 256)

    /// The bytes of `record`, or `nil`.
    static func encode(_ record: LoggedCommand) -> [UInt8]? {
        let writer = CommandRecordWriter()
        writer.open()
        writer.key("command")
        guard writer.write(record.command) else { return nil }
        writer.key("context")
        writer.write(record.context)
        writer.key("rules")
        writer.output.writeInteger(record.rules)
        writer.close()
        return writer.finished
    }

    /// The bytes of `record`, or `nil`.
    static func encode(_ record: JournalRecord) -> [UInt8]? {
        let writer = CommandRecordWriter()
        writer.open()
        writer.key("command")
        guard writer.write(record.command) else { return nil }
        writer.key("context")
        writer.write(record.context)
        writer.key("sequence")
        writer.output.writeInteger(record.sequence)
        writer.key("time")
        writer.output.writeDate(record.time)
        writer.close()
        return writer.finished
    }

    private var finished: [UInt8]? {
        output.failure == nil ? output.bytes : nil
    }

    /// Writes `command`, keys in order; false for a command this writer leaves to `Codable`.
    private func write(_ command: Command) -> Bool {
        switch command {
        case .delegate(let new):
            enumCase("delegate") {
                open()
                key("delegate")
                output.writeString(new.delegate.value)
                if let expiry = new.expiresAt {
                    key("expiresAt")
                    output.writeDate(expiry)
                }
                key("mailbox")
                output.writeString(new.mailbox.value)
                key("permissions")
                array(new.permissions) { output.writeString($0.rawValue) }
                close()
            }
        case .undelegate(let mailbox, let delegate):
            associatedValues("undelegate") {
                key("delegate")
                output.writeString(delegate.value)
                key("mailbox")
                output.writeString(mailbox.value)
            }
        case .recordDelegatedSend(let login, let sender, let delegation, let details):
            associatedValues("recordDelegatedSend") {
                key("delegation")
                output.writeInteger(delegation.rawValue)
                if let details {
                    key("details")
                    write(details)
                }
                key("login")
                output.writeString(login.value)
                key("sender")
                output.writeString(sender.value)
            }
        case .recordLoginFailure(let attempt):
            enumCase("recordLoginFailure") { write(attempt) }
        case .recordLockout(let attempt):
            enumCase("recordLockout") { write(attempt) }
        case .setPassword(let address, let hash):
            associatedValues("setPassword") {
                key("_0")
                output.writeString(address.value)
                key("_1")
                output.writeString(hash.encoded)
            }
        case .addUser(let new):
            enumCase("addUser") {
                open()
                key("address")
                output.writeString(new.address.value)
                key("aliases")
                array(new.aliases) { output.writeString($0.value) }
                key("displayName")
                output.writeString(new.displayName)
                key("passwordHash")
                output.writeString(new.passwordHash.encoded)
                if let policy = new.policy {
                    key("policy")
                    output.writeString(policy)
                }
                if let recovery = new.recoveryAddress {
                    key("recoveryAddress")
                    output.writeString(recovery.value)
                }
                close()
            }
        default:
            return false
        }
        return true
    }

    /// An enum case whose associated values are labelled, or more than one:
    /// `{"name":{...}}`, the members written by `members`.
    private func associatedValues(_ name: StaticString, _ members: () -> Void) {
        open()
        key(name)
        open()
        members()
        close()
        close()
    }

    private func write(_ context: CommandContext) {
        open()
        key("actor")
        write(context.actor)
        if let verified = context.factorVerifiedAt {
            key("factorVerifiedAt")
            output.writeDate(verified)
        }
        if let reauthenticated = context.reauthenticatedAt {
            key("reauthenticatedAt")
            output.writeDate(reauthenticated)
        }
        key("time")
        output.writeDate(context.time)
        close()
    }

    private func write(_ details: DelegatedSendDetails) {
        open()
        if let messageID = details.messageID {
            key("messageID")
            output.writeString(messageID)
        }
        key("path")
        output.writeString(details.path)
        key("permission")
        output.writeString(details.permission.rawValue)
        if let queueID = details.queueID {
            key("queueID")
            output.writeString(queueID)
        }
        close()
    }

    private func write(_ attempt: LoginAttempt) {
        open()
        if let locked = attempt.locked {
            key("locked")
            output.writeString(locked)
        }
        key("login")
        output.writeString(attempt.login)
        key("source")
        output.writeString(attempt.source)
        key("via")
        output.writeString(attempt.via)
        close()
    }
}
