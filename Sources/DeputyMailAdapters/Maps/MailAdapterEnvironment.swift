import DeputyServer
import DeputyCore
import Foundation
import Logging

/// What every mail-server listener shares with the rest of the daemon: the published
/// directory, password checks, the login throttle, the clock, and whether the directory is
/// ready to answer.
public struct MailAdapterEnvironment: Sendable {
    /// The published directory; each request reads the version current when it arrives.
    public let directory: LiveDirectory
    /// Password verification off the event loops.
    public let passwords: PasswordService
    /// Failed-login counting, shared with `BIND`.
    public let throttle: LoginThrottle
    /// Where delegated sends are recorded.
    public let recorder: any DelegatedSendRecorder
    /// Judges mail servers' password logins with the same throttle and audit as `BIND`.
    public let logins: LoginVerifier
    /// The time; injected so tests control it.
    public let clock: @Sendable () -> Date
    /// Whether the directory is loaded and may be trusted. While it is not, every request
    /// gets its protocol's temporary failure, never a wrong "not found".
    public let isReady: @Sendable () -> Bool
    /// Postfix's `recipient_delimiter`, when address extensions are in use: an address the
    /// directory does not know as written is read without its extension.
    public let recipientDelimiter: RecipientDelimiter?

    /// Creates an environment.
    public init(
        directory: LiveDirectory, passwords: PasswordService, throttle: LoginThrottle,
        recorder: any DelegatedSendRecorder, loginRecorder: any LoginRecorder, clock: @escaping @Sendable () -> Date = { Date() },
        isReady: @escaping @Sendable () -> Bool = { true }, recipientDelimiter: RecipientDelimiter? = nil
    ) {
        self.directory = directory
        self.passwords = passwords
        self.throttle = throttle
        self.recorder = recorder
        self.logins = LoginVerifier(passwords: passwords, throttle: throttle, recorder: loginRecorder, directory: directory)
        self.clock = clock
        self.isReady = isReady
        self.recipientDelimiter = recipientDelimiter
    }

    /// An environment that shares the sessions' directory, passwords, throttle and clock.
    public init(
        sharing session: SessionEnvironment, recorder: any DelegatedSendRecorder, isReady: @escaping @Sendable () -> Bool = { true },
        recipientDelimiter: RecipientDelimiter? = nil
    ) {
        self.init(
            directory: session.committer.live, passwords: session.passwords, throttle: session.throttle,
            recorder: recorder, loginRecorder: session.loginRecorder, clock: session.clock, isReady: isReady,
            recipientDelimiter: recipientDelimiter
        )
    }
}
