import DeputyServer
import DeputyCore
import Foundation
import Logging
import NIOCore

/// Checks each message's `From:` and `Sender:` headers for Postfix's (or Sendmail's)
/// `smtpd_milters`, with ``HeaderDecision``.
///
/// It asks the MTA to skip the steps it does not need (connect, HELO, recipients, DATA,
/// unknown commands, the body) and not to wait for a reply to each header. It reads the
/// login from the `{auth_authen}` macro, the queue id from `i`, and answers at the end of
/// the message: continue, continue after adding `Sender:`, or `554 5.7.1` with the reason.
/// Before it answers it records each send a delegation allowed, the envelope sender's
/// included, once per message and address.
struct MilterConversation: MailAdapterConversation {
    /// The newest protocol version spoken; Postfix offers 6.
    static let version: UInt32 = 6
    /// The steps this milter asks to skip, when the MTA offers to.
    static let wantedSteps = MilterReply.Steps.noConnect | MilterReply.Steps.noHelo | MilterReply.Steps.noRecipient
        | MilterReply.Steps.noBody | MilterReply.Steps.noUnknown | MilterReply.Steps.noData | MilterReply.Steps.noHeaderReply

    let environment: MailAdapterEnvironment
    let unauthenticated: HeaderDecision.Unauthenticated
    let decoder: MilterPacketDecoder
    let logger: Logger

    private var negotiated = false
    private var steps: UInt32 = 0
    private var macros: [Substring: String] = [:]
    private var message = Message()

    /// What has been seen of the current message.
    private struct Message {
        var login = ""
        var envelopeSender = ""
        var from: [String] = []
        var sender: [String] = []
        var messageID: String?
    }

    init(environment: MailAdapterEnvironment, limits: MailAdapterLimits, unauthenticated: HeaderDecision.Unauthenticated, logger: Logger) {
        self.environment = environment
        self.unauthenticated = unauthenticated
        self.decoder = MilterPacketDecoder(maximumLength: max(limits.maximumRequestSize, MilterPacketDecoder.minimumPacketLimit))
        self.logger = logger
    }

    mutating func receive(_ input: inout ByteBuffer, into output: inout ByteBuffer) async throws(MailAdapterError) -> MailAdapterDisposition {
        while let command = try decoder.decode(&input) {
            guard negotiated || isNegotiation(command) else { throw .malformed("a milter command came before option negotiation") }
            switch command {
            case .optionNegotiation(let version, let actions, let offered):
                guard version >= 2 else { throw MailAdapterError(.unsupportedVersion, "milter protocol version \(version) is older than 2") }
                negotiated = true
                steps = Self.wantedSteps & offered
                MilterReply.optionNegotiation(version: min(version, Self.version), actions: MilterReply.Actions.addHeaders & actions, steps: steps)
                    .encode(into: &output)
            case .macros(_, let list):
                for macro in list { macros[macro.bareName] = macro.value }
            case .connect, .helo, .recipient, .data, .unknown, .endOfHeaders, .body:
                MilterReply.continue.encode(into: &output)
            case .mail(let arguments):
                message = Message()
                message.login = macros["auth_authen"] ?? ""
                message.envelopeSender = Self.unbracketed(arguments.first ?? "")
                MilterReply.continue.encode(into: &output)
            case .header(let name, let value):
                switch name.lowercased() {
                case "from": message.from.append(value)
                case "sender": message.sender.append(value)
                case "message-id": message.messageID = value.trimmingCharacters(in: .whitespaces)
                default: break
                }
                if steps & MilterReply.Steps.noHeaderReply == 0 { MilterReply.continue.encode(into: &output) }
            case .endOfMessage:
                for reply in await endOfMessage() { reply.encode(into: &output) }
                message = Message()
            case .abort:
                message = Message()
            case .quit:
                return .close
            case .quitNewConnection:
                macros = [:]
                message = Message()
            }
        }
        return .keepOpen
    }

    private func isNegotiation(_ command: MilterCommand) -> Bool {
        if case .optionNegotiation = command { return true }
        return false
    }

    /// The replies that end a message, after recording its delegated sends.
    private func endOfMessage() async -> [MilterReply] {
        guard environment.isReady() else {
            ServerMetrics.adapterLookup(.milterDefer)
            return [.temporaryFailure]
        }
        let now = environment.clock()
        let directory = environment.directory.directory
        let login = message.login
        let decision = HeaderDecision.decide(
            login: login, from: message.from, sender: message.sender, unauthenticated: unauthenticated, in: directory, at: now,
            delimiter: environment.recipientDelimiter
        )
        let queueID = macros["i"]
        logger.debug("milter decision", metadata: [
            "milter.login": "\(login.prefix(254))", "milter.queue-id": "\((queueID ?? "").prefix(64))", "milter.outcome": "\(decision.outcome)",
        ])
        switch decision.outcome {
        case .reject(let text):
            ServerMetrics.adapterLookup(.milterReject)
            return [.reply(code: "554", text: "5.7.1 " + text)]
        case .accept(let addSender):
            guard let loginAddress = EmailAddress(login) else {
                ServerMetrics.adapterLookup(.milterAccept)
                return [.continue]
            }
            var recorded: Set<EmailAddress> = []
            for send in decision.delegatedSends where recorded.insert(send.sender).inserted {
                await record(login: loginAddress, sender: send.sender, grant: send.grant, permission: send.permission, queueID: queueID, at: now)
            }
            // The envelope sender's delegation, unless a header already recorded the address;
            // read without its extension as the policy service reads it.
            let envelopeSender = directory.extended(message.envelopeSender, delimiter: environment.recipientDelimiter).address
            if let envelope = EmailAddress(envelopeSender), !recorded.contains(envelope),
               let grant = DelegatedSendGrant(directory.sendAs(login: login, address: envelope.value, at: now)) {
                await record(login: loginAddress, sender: envelope, grant: grant, permission: .sendAs, queueID: queueID, at: now)
            }
            ServerMetrics.adapterLookup(.milterAccept)
            if let addSender { return [.addHeader(name: "Sender", value: addSender.value), .continue] }
            return [.continue]
        }
    }

    private func record(login: EmailAddress, sender: EmailAddress, grant: DelegatedSendGrant, permission: Permission, queueID: String?, at now: Date) async {
        let details = DelegatedSendDetails(permission: permission, queueID: queueID, messageID: message.messageID, path: "milter")
        await environment.recorder.record(DelegatedSendEvent(login: login, sender: sender, grant: grant, details: details), at: now)
    }

    /// `<alice@example.test>` without its brackets.
    private static func unbracketed(_ text: String) -> String {
        var text = Substring(text)
        if text.hasPrefix("<") { text = text.dropFirst() }
        if text.hasSuffix(">") { text = text.dropLast() }
        return String(text)
    }
}
