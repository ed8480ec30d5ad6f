import DeputyServer
import DeputyCore
import Foundation
import Logging
import NIOCore

/// Answers Postfix's policy delegation requests: may this login use this sender?
///
/// Each send that a delegation allowed is recorded before the answer goes out, once per
/// message and sender even though Postfix asks again for every recipient. On a malformed
/// or over-limit request the connection closes without a reply, as the protocol requires.
struct PolicyConversation: MailAdapterConversation {
    let environment: MailAdapterEnvironment
    var decoder: PolicyRequestDecoder
    let logger: Logger
    /// Whether this service records delegated sends: not when a milter listener does, as it
    /// sees each message whole (with its queue id and Message-ID) and records the envelope
    /// sender's delegation too, so each message is recorded once.
    let recordsDelegatedSends: Bool
    /// The last delegated send recorded on this connection, by message instance.
    private var lastRecorded: (instance: String, login: String, sender: String)?
    /// The directory's version, kept while no other is published.
    private var reader: DirectoryReader

    init(environment: MailAdapterEnvironment, limits: MailAdapterLimits, recordsDelegatedSends: Bool = true, logger: Logger) {
        self.environment = environment
        self.recordsDelegatedSends = recordsDelegatedSends
        self.decoder = PolicyRequestDecoder(maximumBlockSize: limits.maximumRequestSize)
        self.logger = logger
        self.reader = DirectoryReader(environment.directory)
    }

    mutating func receive(_ input: inout ByteBuffer, into output: inout ByteBuffer) async throws(MailAdapterError) -> MailAdapterDisposition {
        while let request = try decoder.decode(&input) {
            await answer(request).encode(into: &output)
        }
        return .keepOpen
    }

    /// The action for one request, after recording the delegated send it allows, if any.
    mutating func answer(_ request: PolicyRequest) async -> PolicyAction {
        guard environment.isReady() else { return .deferIfPermit("4.3.0 directory not ready") }
        let now = environment.clock()
        let decision = PolicyDecision.decide(request, in: reader.current().directory, at: now, delimiter: environment.recipientDelimiter)
        if recordsDelegatedSends, let send = decision.delegatedSend {
            let instance = request.instance ?? ""
            let key = (instance: instance, login: send.login.value, sender: send.sender.value)
            if instance.isEmpty || lastRecorded.map({ $0 != key }) ?? true {
                let details = DelegatedSendDetails(permission: .sendAs, queueID: request.queueID, messageID: nil, path: "policy")
                await environment.recorder.record(DelegatedSendEvent(login: send.login, sender: send.sender, grant: send.grant, details: details), at: now)
                lastRecorded = key
            }
        }
        logger.debug("policy decision", metadata: [
            "policy.sender": "\(request.sender.prefix(254))", "policy.login": "\(request.saslUsername.prefix(254))",
            "policy.action": "\(decision.action.line)",
        ])
        let lookup: AdapterLookup = switch decision.action {
        case .dunno: .policyAllowed
        case .reject: .policyRefused
        case .deferIfPermit: .policyDeferred
        }
        ServerMetrics.adapterLookup(lookup)
        return decision.action
    }
}
