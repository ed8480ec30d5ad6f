import DeputyServer
import DeputyCore
import Foundation

/// The milter's answer for one message: may this login send a message with these
/// `From:` and `Sender:` headers?
///
/// Every address goes through ``DeputyCore/Directory/sendAs(login:address:at:)`` and
/// ``DeputyCore/Directory/sendOnBehalf(login:address:at:)``, the functions the envelope
/// checks (policy service, `senders` map, `QUERY SENDAS`) use, so the header and envelope
/// decisions can't disagree.
public struct HeaderDecision: Hashable, Sendable {
    /// What to tell the MTA.
    public enum Outcome: Hashable, Sendable {
        /// Accept the message; add `Sender: <address>` first when it is set.
        case accept(addSender: EmailAddress?)
        /// Refuse with `554 5.7.1 <text>`.
        case reject(String)
    }

    /// What to tell the MTA.
    public let outcome: Outcome
    /// The `From:` addresses that a delegation allowed, to record.
    public let delegatedSends: [DelegatedAddress]

    /// One address a delegation allowed, with the permission it was used with.
    public struct DelegatedAddress: Hashable, Sendable {
        /// The `From:` address.
        public let sender: EmailAddress
        /// The delegation that allowed it.
        public let grant: DelegatedSendGrant
        /// `sendas`, or `sendonbehalf` when only that allowed it.
        public let permission: Permission
    }

    /// What an unauthenticated message gets.
    public typealias Unauthenticated = MilterUnauthenticated

    init(_ outcome: Outcome, delegatedSends: [DelegatedAddress] = []) {
        self.outcome = outcome
        self.delegatedSends = delegatedSends
    }

    /// Decides a message.
    ///
    /// - Not logged in (`login` empty): as `unauthenticated` says.
    /// - Every `From:` address must be one the login may send as (accepted as is), or one
    ///   it may send on behalf of; then `Sender:` must name the login (own address or
    ///   alias), and is added when missing.
    /// - A `Sender:` present must name an address the login may send as.
    /// - One `From:` header with at least one readable address, at most one `Sender:`
    ///   header with exactly one: anything else is refused, never guessed at.
    /// - With `delimiter`, an address the directory does not know as written is decided
    ///   without its extension: `alice+lists@` is alice's to use.
    public static func decide(
        login: String, from: [String], sender: [String], unauthenticated: Unauthenticated, in directory: Directory, at now: Date,
        delimiter: RecipientDelimiter?
    ) -> HeaderDecision {
        // Each refusal says what is wrong, so that whoever reads the bounce knows what to mend.
        guard from.count == 1 else {
            return HeaderDecision(.reject(from.isEmpty ? "the message has no From: header" : "the message has more than one From: header"))
        }
        guard let written = HeaderAddressList.parse(from[0]) else { return HeaderDecision(.reject("the message's From: header can't be read")) }
        guard !written.isEmpty else { return HeaderDecision(.reject("the message's From: header names no address")) }
        let fromAddresses = written.map { directory.extended($0, delimiter: delimiter).address }
        guard !login.isEmpty else {
            if unauthenticated == .reject, let address = fromAddresses.first(where: { directory.isOrganizationSender($0) }) {
                return HeaderDecision(.reject("not logged in: log in to send as \(address)"))
            }
            return HeaderDecision(.accept(addSender: nil))
        }
        var senderAddress: String?
        if !sender.isEmpty {
            guard sender.count == 1, let addresses = HeaderAddressList.parse(sender[0]), addresses.count == 1 else {
                return HeaderDecision(.reject("the message's Sender: header must name exactly one address"))
            }
            senderAddress = directory.extended(addresses[0], delimiter: delimiter).address
        }

        var sends: [DelegatedAddress] = []
        var onBehalf: String?
        for address in fromAddresses {
            let asDecision = directory.sendAs(login: login, address: address, at: now)
            if asDecision.allowed {
                if let grant = DelegatedSendGrant(asDecision), let parsed = EmailAddress(address) { sends.append(DelegatedAddress(sender: parsed, grant: grant, permission: .sendAs)) }
                continue
            }
            let behalfDecision = directory.sendOnBehalf(login: login, address: address, at: now)
            guard behalfDecision.allowed else {
                return HeaderDecision(.reject("From: " + asDecision.refusalText(login: login, address: address, hosted: isHosted(address, in: directory))))
            }
            onBehalf = onBehalf ?? address
            if let grant = DelegatedSendGrant(behalfDecision), let parsed = EmailAddress(address) { sends.append(DelegatedAddress(sender: parsed, grant: grant, permission: .sendOnBehalf)) }
        }

        if let senderAddress {
            let decision = directory.sendAs(login: login, address: senderAddress, at: now)
            if let onBehalf {
                switch decision.reason {
                case .ownAddress, .alias: break
                default: return HeaderDecision(.reject("Sender: must name \(login) when sending on behalf of \(onBehalf)"))
                }
            } else if !decision.allowed {
                return HeaderDecision(.reject("Sender: " + decision.refusalText(login: login, address: senderAddress, hosted: isHosted(senderAddress, in: directory))))
            }
            return HeaderDecision(.accept(addSender: nil), delegatedSends: sends)
        }
        guard onBehalf != nil else { return HeaderDecision(.accept(addSender: nil), delegatedSends: sends) }
        // Recipients see "login on behalf of owner": the login's primary address, as the
        // directory spells it.
        guard case .user(let principal)? = directory.account(forLogin: login)?.principal, let user = directory.user(id: principal) else {
            return HeaderDecision(.reject("\(login) is not a login of this organisation (reason=unknown-login)"))
        }
        return HeaderDecision(.accept(addSender: user.address), delegatedSends: sends)
    }

    private static func isHosted(_ address: String, in directory: Directory) -> Bool {
        EmailAddress(address).map { directory.organization?.hosts($0.domain) == true } ?? false
    }
}
