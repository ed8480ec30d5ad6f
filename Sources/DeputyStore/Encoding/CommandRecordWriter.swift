import DeputyCore
import Foundation

/// Writes the records ``TapeCommandReader`` reads (the commonest commands) straight into
/// JSON, byte for byte as ``StorageJSONEncoder`` writes them through `Codable`, whose generic
/// containers cost most of an encoding. Returns `nil` for a record it does not handle (and
/// for a date outside what the encoder can write), which is then encoded through `Codable`.
///
/// The bytes must be the encoder's own: a node that checks a record reads it back, and the
/// tests compare both encodings of random records.
struct CommandRecordWriter {
    private let output = JSONOutput(expandedDepth: 0, capacity: 256)

    /// The bytes of `record`, or `nil`.
    static func encode(_ record: LoggedCommand) -> [UInt8]? {
        let writer = CommandRecordWriter()
        guard writer.command(record.command) else { return nil }
        writer.raw(#","context":"#)
        writer.context(record.context)
        writer.raw(#","rules":"#)
        writer.output.writeInteger(record.rules)
        writer.raw("}")
        return writer.finished
    }

    /// The bytes of `record`, or `nil`.
    static func encode(_ record: JournalRecord) -> [UInt8]? {
        let writer = CommandRecordWriter()
        guard writer.command(record.command) else { return nil }
        writer.raw(#","context":"#)
        writer.context(record.context)
        writer.raw(#","sequence":"#)
        writer.output.writeInteger(record.sequence)
        writer.raw(#","time":"#)
        writer.output.writeDate(record.time)
        writer.raw("}")
        return writer.finished
    }

    private var finished: [UInt8]? {
        output.failure == nil ? output.bytes : nil
    }

    /// Opens the record and writes its command, keys in order; false for a command this
    /// writer leaves to `Codable`.
    private func command(_ command: Command) -> Bool {
        switch command {
        case .delegate(let new):
            raw(#"{"command":{"delegate":{"_0":{"delegate":"#)
            output.writeString(new.delegate.value)
            if let expiry = new.expiresAt {
                raw(#","expiresAt":"#)
                output.writeDate(expiry)
            }
            raw(#","mailbox":"#)
            output.writeString(new.mailbox.value)
            raw(#","permissions":["#)
            var first = true
            for permission in new.permissions {
                if !first { raw(",") }
                first = false
                output.writeString(permission.rawValue)
            }
            raw("]}}}")
        case .undelegate(let mailbox, let delegate):
            raw(#"{"command":{"undelegate":{"delegate":"#)
            output.writeString(delegate.value)
            raw(#","mailbox":"#)
            output.writeString(mailbox.value)
            raw("}}")
        case .recordDelegatedSend(let login, let sender, let delegation, let details):
            raw(#"{"command":{"recordDelegatedSend":{"delegation":"#)
            output.writeInteger(delegation.rawValue)
            if let details {
                raw(#","details":{"#)
                if let messageID = details.messageID {
                    raw(#""messageID":"#)
                    output.writeString(messageID)
                    raw(",")
                }
                raw(#""path":"#)
                output.writeString(details.path)
                raw(#","permission":"#)
                output.writeString(details.permission.rawValue)
                if let queueID = details.queueID {
                    raw(#","queueID":"#)
                    output.writeString(queueID)
                }
                raw("}")
            }
            raw(#","login":"#)
            output.writeString(login.value)
            raw(#","sender":"#)
            output.writeString(sender.value)
            raw("}}")
        case .recordLoginFailure(let attempt):
            raw(#"{"command":{"recordLoginFailure":{"_0":"#)
            loginAttempt(attempt)
            raw("}}")
        case .recordLockout(let attempt):
            raw(#"{"command":{"recordLockout":{"_0":"#)
            loginAttempt(attempt)
            raw("}}")
        case .setPassword(let address, let hash):
            raw(#"{"command":{"setPassword":{"_0":"#)
            output.writeString(address.value)
            raw(#","_1":"#)
            output.writeString(hash.encoded)
            raw("}}")
        case .addUser(let new):
            raw(#"{"command":{"addUser":{"_0":{"address":"#)
            output.writeString(new.address.value)
            raw(#","aliases":["#)
            for (position, alias) in new.aliases.enumerated() {
                if position > 0 { raw(",") }
                output.writeString(alias.value)
            }
            raw(#"],"displayName":"#)
            output.writeString(new.displayName)
            raw(#","passwordHash":"#)
            output.writeString(new.passwordHash.encoded)
            if let policy = new.policy {
                raw(#","policy":"#)
                output.writeString(policy)
            }
            if let recovery = new.recoveryAddress {
                raw(#","recoveryAddress":"#)
                output.writeString(recovery.value)
            }
            raw("}}}")
        default:
            return false
        }
        return true
    }

    private func loginAttempt(_ attempt: LoginAttempt) {
        raw("{")
        if let locked = attempt.locked {
            raw(#""locked":"#)
            output.writeString(locked)
            raw(",")
        }
        raw(#""login":"#)
        output.writeString(attempt.login)
        raw(#","source":"#)
        output.writeString(attempt.source)
        raw(#","via":"#)
        output.writeString(attempt.via)
        raw("}")
    }

    private func context(_ context: CommandContext) {
        raw(#"{"actor":"#)
        switch context.actor {
        case .user(let id):
            raw(#"{"user":{"_0":"#)
            output.writeInteger(id.rawValue)
            raw("}}")
        case .service(let id):
            raw(#"{"service":{"_0":"#)
            output.writeInteger(id.rawValue)
            raw("}}")
        case .system:
            raw(#"{"system":{}}"#)
        }
        if let verified = context.factorVerifiedAt {
            raw(#","factorVerifiedAt":"#)
            output.writeDate(verified)
        }
        if let reauthenticated = context.reauthenticatedAt {
            raw(#","reauthenticatedAt":"#)
            output.writeDate(reauthenticated)
        }
        raw(#","time":"#)
        output.writeDate(context.time)
        raw("}")
    }

    private func raw(_ text: StaticString) {
        text.withUTF8Buffer { output.bytes.append(contentsOf: $0) }
    }
}
