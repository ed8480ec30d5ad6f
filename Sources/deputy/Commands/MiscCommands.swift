import ArgumentParser
import DeputyClient
import DeputyProtocol
import Foundation

/// `deputy whoami`
struct WhoAmI: DeputyCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Who you are bound as, with your role.")
    @OptionGroup var connection: ConnectionOptions
    func perform(_ session: DeputySession) async throws -> ExitStatus {
        try await session.run(.whoami)
    }
}

/// `deputy ping`: is the server there? No login needed.
struct Ping: DeputyCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the server answers (no login needed).")
    static var needsLogin: Bool { false }
    @OptionGroup var connection: ConnectionOptions
    func perform(_ session: DeputySession) async throws -> ExitStatus {
        let started = ContinuousClock.now
        let reply = try await session.send(.ping)
        let elapsed = ContinuousClock.now - started
        guard reply.status.isOK else {
            session.printer.printStatus(reply.status)
            return .refused
        }
        if session.printer.format == .json {
            // A program asked: the greeting and the round trip as fields, not a sentence.
            let object: [String: Any] = ["greeting": session.connection.greeting, "milliseconds": Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            StandardOutput.write(Array(data) + [UInt8(ascii: "\n")])
        } else {
            StandardOutput.write("\(session.connection.greeting) (\(elapsed.formatted(.units(allowed: [.milliseconds], width: .narrow))))\n")
        }
        return .success
    }
}

/// `deputy audit`: read the audit log; `--follow` keeps reading new records.
struct AuditCommand: DeputyCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Read the audit log (administrators and Helpdesk).")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Only records at or after this time (RFC 3339).") var since: String?
    @Option(help: "Only records at or before this time.") var until: String?
    @Option(help: "Only records by this actor.") var actor: String?
    @Option(help: "Only records about this target.") var target: String?
    @Option(help: "At most this many (newest first).") var limit: Int?
    @Flag(help: "Keep printing new records as they come, oldest first, until interrupted.") var follow = false
    @Option(help: "Seconds between polls with --follow.") var interval: Double = 2

    func perform(_ session: DeputySession) async throws -> ExitStatus {
        var query = Request.AuditQuery(
            since: try ArgumentValues.time(since, option: "since"), until: try ArgumentValues.time(until, option: "until"),
            actor: actor, target: target, limit: limit
        )
        guard follow else { return try await session.run(.audit(query)) }
        var last: UInt64 = 0
        var first = true
        query.limit = limit ?? 100
        while !Task.isCancelled {
            query.after = first ? nil : last
            query.before = nil
            // The server answers newest first, at most a page (its own cap may be below the
            // limit asked). After the first poll, a page that does not reach back to the last
            // record printed may leave older new records out: ask for those below its oldest,
            // until a page comes back empty or reaches back.
            var records: [ReplyRecord] = []
            while true {
                let reply = try await session.send(.audit(query))
                guard reply.status.isOK else {
                    session.printer.printStatus(reply.status)
                    return .refused
                }
                records += reply.records
                let oldest = reply.records.compactMap { $0["seq"].flatMap(UInt64.init) }.min()
                guard !first, let oldest, oldest > last + 1 else { break }
                query.before = oldest
            }
            // A follower reads oldest first.
            records.sort { ($0["seq"].flatMap(UInt64.init) ?? 0) < ($1["seq"].flatMap(UInt64.init) ?? 0) }
            if !records.isEmpty { session.printer.print(Reply(records: records, status: .ok(text: nil))) }
            last = records.compactMap { $0["seq"].flatMap(UInt64.init) }.max() ?? last
            first = false
            try await Task.sleep(for: .seconds(interval))
        }
        return .success
    }
}

/// `deputy raw 'LINE'`: one protocol line, the reply exactly as it came.
struct Raw: DeputyCommand {
    static let configuration = CommandConfiguration(abstract: "Send one protocol line and print the reply as it came.")
    static var needsLogin: Bool { false }
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The line, e.g. 'QUERY SENDAS bob@example.org alice@example.org'.") var line: String

    func perform(_ session: DeputySession) async throws -> ExitStatus {
        // Bind first when a login is configured, unless the line is itself a BIND.
        if let user = session.options.user, !line.uppercased().hasPrefix("BIND ") {
            let password = try PasswordSource.password(file: session.options.passwordFile, prompt: "Password for \(user): ")
            let bind = try await session.send(.bind(login: user, password: password))
            guard bind.status.isOK else { throw CLIError(.loginRefused, "login failed: \(bind.status.text)") }
        }
        let request: RequestLine
        do {
            guard let parsed = try RequestParser.parse(line) else { throw CLIError(.usage, "the line is empty") }
            request = parsed
        } catch let error as CLIError {
            throw error
        } catch let error as ProtocolError {
            throw CLIError(.usage, error.message)
        }
        let reply = try await session.send(request)
        var buffer = ByteBuffer()
        _ = ReplyEncoder.write(reply, into: &buffer)
        StandardOutput.write(buffer.readableBytesView)
        return ExitStatus(reply.status)
    }
}

import NIOCore
