/// What a mail server does with a message that fails an authentication or reputation check.
public enum SpamAction: String, Codable, Sendable, CaseIterable {
    /// Deliver as usual.
    case none
    /// Deliver to the spam folder.
    case markSpam = "markspam"
    /// Hold in quarantine for an administrator.
    case quarantine
    /// Refuse at SMTP time.
    case reject
}

/// The organisation's spam control settings, which mail servers query.
public struct SpamSettings: Hashable, Codable, Sendable {
    /// Senders whose mail is never treated as spam.
    public var allowedSenders: Set<EmailAddress>
    /// Senders whose mail is refused.
    public var blockedSenders: Set<EmailAddress>
    /// Domains whose mail is never treated as spam.
    public var allowedDomains: Set<DomainName>
    /// Domains whose mail is refused.
    public var blockedDomains: Set<DomainName>
    /// The action when SPF fails.
    public var spfFailure: SpamAction
    /// The action when DKIM fails.
    public var dkimFailure: SpamAction
    /// The action when DMARC fails.
    public var dmarcFailure: SpamAction
    /// The action when the client is on a DNS block list.
    public var dnsblFailure: SpamAction

    /// Creates settings with conservative defaults.
    public init(
        allowedSenders: Set<EmailAddress> = [], blockedSenders: Set<EmailAddress> = [],
        allowedDomains: Set<DomainName> = [], blockedDomains: Set<DomainName> = [],
        spfFailure: SpamAction = .markSpam, dkimFailure: SpamAction = .markSpam,
        dmarcFailure: SpamAction = .quarantine, dnsblFailure: SpamAction = .reject
    ) {
        self.allowedSenders = allowedSenders
        self.blockedSenders = blockedSenders
        self.allowedDomains = allowedDomains
        self.blockedDomains = blockedDomains
        self.spfFailure = spfFailure
        self.dkimFailure = dkimFailure
        self.dmarcFailure = dmarcFailure
        self.dnsblFailure = dnsblFailure
    }

    /// The verdict for a sender: `allowed`, `blocked` or `neutral`. A sender listed by address
    /// wins over its domain; blocked wins over allowed at the same level.
    public func verdict(for sender: EmailAddress) -> SpamVerdict {
        if blockedSenders.contains(sender) { return .blocked }
        if allowedSenders.contains(sender) { return .allowed }
        if let domain = DomainName(sender.domain) {
            if blockedDomains.contains(domain) { return .blocked }
            if allowedDomains.contains(domain) { return .allowed }
        }
        return .neutral
    }
}

/// The spam lists' verdict on one sender.
public enum SpamVerdict: String, Sendable {
    case allowed, blocked, neutral
}
