import DeputyMailAdapters
import DeputyCore
import DeputyServer
import NIOPosix

/// A ``MailAdapterEnvironment`` over ``MailFixture``'s directory, for driving conversations
/// without a socket.
enum MailEnvironmentForTests {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    static func make(
        ready: Bool = true, recorder: any DelegatedSendRecorder = CollectingRecorder(),
        loginRecorder: any LoginRecorder = CollectingLoginRecorder(), recipientDelimiter: RecipientDelimiter? = nil
    ) throws -> MailAdapterEnvironment {
        MailAdapterEnvironment(
            directory: LiveDirectory(MailFixture.directory()), passwords: PasswordService(hasher: MailFixture.hasher, pool: pool),
            throttle: LoginThrottle(), recorder: recorder, loginRecorder: loginRecorder, clock: { MailFixture.now }, isReady: { ready },
            recipientDelimiter: recipientDelimiter
        )
    }
}
