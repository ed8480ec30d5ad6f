import ArgumentParser
import DeputyProtocol

/// A subcommand that talks to the server over one session.
///
/// `run()` opens the session, binds, performs, closes, and turns the outcome into the exit
/// status; `deputy shell` calls ``perform(_:)`` directly on its own long-lived session.
protocol DeputyCommand: AsyncParsableCommand {
    var connection: ConnectionOptions { get }
    /// Whether the command needs a bound session (all but `ping`).
    static var needsLogin: Bool { get }
    func perform(_ session: DeputySession) async throws -> ExitStatus
}

extension DeputyCommand {
    static var needsLogin: Bool { true }

    func run() async throws {
        let status: ExitStatus
        do {
            let session = try await DeputySession.open(connection, bind: Self.needsLogin)
            do {
                status = try await perform(session)
            } catch {
                await session.close()
                throw error
            }
            await session.close()
        } catch {
            throw CLIError.exit(error, verbose: connection.verbose)
        }
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
