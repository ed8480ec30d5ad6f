import DeputyCore
import DeputyProtocol
import Foundation
import Logging

/// What every session shares: the directory, password checks, the login throttle, the clock.
public struct SessionEnvironment: Sendable {
    /// The single writer, and through it the published directory.
    public let committer: any DirectoryCommitter
    /// Password hashing off the event loops.
    public let passwords: PasswordService
    /// Failed-login counting.
    public let throttle: LoginThrottle
    /// Where failed logins and lockouts are recorded: the audit log, through the committer.
    public let loginRecorder: any LoginRecorder
    /// Judges password logins: throttle, password and audit record together.
    public let logins: LoginVerifier
    /// Seals and opens the users' TOTP secrets with the daemon's factor key.
    public let factorBox: FactorSecretBox
    /// Random bytes for new TOTP secrets and recovery codes.
    public let randomBytes: @Sendable (Int) -> [UInt8]
    /// The time; injected so tests control it.
    public let clock: @Sendable () -> Date
    /// The daemon's version, shown in the greeting.
    public let version: String
    /// The protocol limits in force.
    public var limits: ProtocolLimits
    /// The most records an AUDIT, SEARCH or DELEGATIONS reply holds.
    public var maximumListing: Int
    /// The thread AUDIT, SEARCH and DELEGATIONS are answered on, one at a time, below the
    /// event loops' priority (``ListingThread``).
    public let listings: ListingThread

    public init(
        committer: any DirectoryCommitter, passwords: PasswordService, throttle: LoginThrottle,
        clock: @escaping @Sendable () -> Date = { Date() }, version: String = DeputyVersion.current,
        limits: ProtocolLimits = .default, maximumListing: Int = 1_000,
        factorBox: FactorSecretBox = FactorSecretBox(key: FactorSecretBox.makeKey())!,
        randomBytes: @escaping @Sendable (Int) -> [UInt8] = FactorRandomness.system,
        listings: ListingThread = .shared
    ) {
        self.committer = committer
        self.passwords = passwords
        self.throttle = throttle
        let recorder = CommittingLoginRecorder(committer: committer, logger: Logger(label: "deputy.audit"))
        self.loginRecorder = recorder
        self.logins = LoginVerifier(passwords: passwords, throttle: throttle, recorder: recorder, directory: committer.live)
        self.clock = clock
        self.version = version
        self.limits = limits
        self.maximumListing = maximumListing
        self.factorBox = factorBox
        self.randomBytes = randomBytes
        self.listings = listings
    }
}

/// The version of Deputy.
public enum DeputyVersion {
    public static let current = "0.1.0"
}
