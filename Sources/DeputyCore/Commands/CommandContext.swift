import Foundation

/// Who applies a command, when, and how recently they proved their password.
///
/// Time is part of the context, never read inside the rules, so expiry and the
/// re-authentication window are exact in tests and the same when a journal is replayed.
public struct CommandContext: Hashable, Codable, Sendable {
    /// Who acts.
    public var actor: Principal
    /// The time of the command.
    public var time: Date
    /// When the actor last proved their password (REAUTH, or the old password given to PASSWD).
    public var reauthenticatedAt: Date?
    /// When the actor last proved their second factor (REAUTH with a code), which the
    /// sensitive acts need from an actor that has one.
    public var factorVerifiedAt: Date?

    /// How long a re-authentication opens sensitive commands: five minutes.
    public static let reauthenticationWindow: TimeInterval = 300

    /// Creates a context.
    public init(actor: Principal, time: Date, reauthenticatedAt: Date? = nil, factorVerifiedAt: Date? = nil) {
        self.actor = actor
        self.time = time
        self.reauthenticatedAt = reauthenticatedAt
        self.factorVerifiedAt = factorVerifiedAt
    }

    /// Whether the actor re-authenticated within the window before ``time``.
    public var isRecentlyReauthenticated: Bool {
        Self.isWithinWindow(reauthenticatedAt, of: time)
    }

    /// Whether the actor proved their second factor within the window before ``time``.
    public var isRecentlyFactorVerified: Bool {
        Self.isWithinWindow(factorVerifiedAt, of: time)
    }

    private static func isWithinWindow(_ proof: Date?, of time: Date) -> Bool {
        guard let proof else { return false }
        let age = time.timeIntervalSince(proof)
        return age >= 0 && age <= reauthenticationWindow
    }
}
