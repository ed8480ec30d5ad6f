/// How a checkpassword program ends, in the exit statuses Dovecot reads.
public enum CheckpasswordOutcome: Equatable, Sendable {
    /// The password is right: run the reply program with `USER` set to the login Deputy
    /// answered with (its canonical spelling, which Dovecot then uses as the user name).
    case accepted(login: String)
    /// Refused: a wrong password, an unknown, blocked or locked login, or a service account.
    /// Exit status 1.
    case refused
    /// Deputy could not answer (unreachable, not ready, a broken reply): Dovecot answers the
    /// client with a temporary failure and nothing counts against the login. Exit status 111.
    case temporaryFailure(String)

    /// The exit status for a refusal or a temporary failure.
    public var exitStatus: Int32 {
        switch self {
        case .accepted: 0
        case .refused: 1
        case .temporaryFailure: 111
        }
    }
}
