import DeputyCore
import Foundation
import Logging

/// The one place a password login is judged, for `BIND`, `REAUTH`, `PASSWD old=` and the
/// mail servers' logins alike: the throttle, the password, the account's state, and the
/// audit record of a failure.
///
/// Every attempt verifies a password, against a decoy hash for an unknown login and even
/// when the throttle has already decided, so that every failure costs the same time and
/// answers the same way.
public struct LoginVerifier: Sendable {
    /// What a login attempt came to.
    public enum Verdict: Sendable {
        /// The password is right and the account may log in.
        case accepted(Account)
        /// Refused: a wrong password, an unknown, blocked or ineligible account, or a lock.
        /// The reason is deliberately not told.
        case refused
        /// The password could not be checked (the daemon is stopping).
        case unavailable
    }

    let passwords: PasswordService
    let throttle: LoginThrottle
    let recorder: any LoginRecorder
    /// The directory, for the organisation's domains (``recordable(_:account:)``).
    let directory: LiveDirectory

    /// Creates a verifier.
    public init(passwords: PasswordService, throttle: LoginThrottle, recorder: any LoginRecorder, directory: LiveDirectory) {
        self.passwords = passwords
        self.throttle = throttle
        self.recorder = recorder
        self.directory = directory
    }

    /// How a failed login's login is written down, in the audit log and the daemon's log:
    /// the account's own login, else the login as typed only where it is an address in one
    /// of the organisation's domains (``DeputyCore/LoginAttempt/recordable(_:in:)``).
    public func recordable(_ login: String, account: Account?) -> String {
        account?.login ?? LoginAttempt.recordable(login, in: directory.directory.organization)
    }

    /// Judges `password` for `login` from `source`, which came in `via` (`bind`,
    /// `dovecot-auth`, ...). `account` is the directory's answer for the login; `eligible`
    /// says whether such an account may log in this way at all; `secondStep`, where given,
    /// checks the second factor once the password is right. A failed second step counts
    /// toward the lockout exactly like a wrong password, and nothing is forgotten as a
    /// success until both steps pass, so a stolen password doesn't reset the count of
    /// guessed codes.
    public func verify(
        login: String, password: String, account: Account?, source: String, via: String, now: Date,
        eligible: (Account) -> Bool = { _ in true }, secondStep: ((Account) async -> Bool)? = nil
    ) async -> Verdict {
        // The account's own login keys the throttle, so that case and spelling don't make
        // a new counter.
        let key = account?.login ?? login
        let source = ClientSource.key(source)
        let admitted = throttle.admit(account: key, address: source, now: now)
        let matches: Bool
        do {
            matches = try await passwords.verify(password, against: account?.passwordHash)
        } catch {
            return .unavailable
        }
        guard let account, matches, !account.blocked, admitted, eligible(account) else {
            let lock = throttle.recordFailure(account: key, address: source, now: now, judged: admitted)
            // While a lock holds, attempts add nothing the lockout record does not say; only
            // judged failures and new locks are written, so an attack can't flood the log.
            if admitted || lock != nil {
                await recorder.recordFailure(
                    LoginAttempt(login: recordable(login, account: account), source: source, via: via), judged: admitted, lock: lock, at: now
                )
            }
            return .refused
        }
        if let secondStep, !(await secondStep(account)) {
            let lock = throttle.recordFailure(account: key, address: source, now: now, judged: true)
            await recorder.recordFailure(LoginAttempt(login: key, source: source, via: via + "-code"), judged: true, lock: lock, at: now)
            return .refused
        }
        throttle.recordSuccess(account: key, address: source, now: now)
        return .accepted(account)
    }
}
