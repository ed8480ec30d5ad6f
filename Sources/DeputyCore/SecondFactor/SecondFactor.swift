import Foundation

/// A user's second factor: a TOTP secret, sealed, with the one-time recovery codes, hashed.
///
/// The directory never holds the secret in clear: ``sealedSecret`` is AES-GCM ciphertext
/// under a key that lives in the daemon's data directory only (``FactorSecretBox``), so
/// snapshots, journals, exports and backups carry nothing an attacker can compute codes
/// from. The core checks what needs no secret: whose factor it is, whether it is
/// confirmed, that a step is not used twice, and the recovery codes' hashes.
public struct SecondFactor: Hashable, Codable, Sendable {
    /// The user the factor belongs to.
    public let user: EntityID
    /// The secret, sealed by ``FactorSecretBox`` for this user.
    public var sealedSecret: String
    /// Whether a first code confirmed it; until then it opens nothing and is not required.
    public var confirmed: Bool
    /// When it was enrolled.
    public var enrolledAt: Date
    /// The last step whose code was accepted: no code of it or before is accepted again.
    public var lastUsedStep: UInt64?
    /// The unused recovery codes, as ``RecoveryCode/hash(_:)`` gives them.
    public var recoveryCodes: [String]

    /// Creates a factor.
    public init(user: EntityID, sealedSecret: String, confirmed: Bool = false, enrolledAt: Date, lastUsedStep: UInt64? = nil, recoveryCodes: [String]) {
        self.user = user
        self.sealedSecret = sealedSecret
        self.confirmed = confirmed
        self.enrolledAt = enrolledAt
        self.lastUsedStep = lastUsedStep
        self.recoveryCodes = recoveryCodes
    }
}

/// What `MFA ENROLL` stores: the sealed secret and the recovery codes' hashes, never
/// either in clear.
public struct FactorEnrolment: Hashable, Codable, Sendable {
    public var sealedSecret: String
    public var recoveryCodes: [String]

    public init(sealedSecret: String, recoveryCodes: [String]) {
        self.sealedSecret = sealedSecret
        self.recoveryCodes = recoveryCodes
    }
}

/// How a user proved the factor.
public enum FactorProof: Hashable, Codable, Sendable {
    /// A code of this step, which the daemon checked against the secret.
    case step(UInt64)
    /// A recovery code, by its hash; it is used up.
    case recoveryCode(String)
}
