import Foundation
import Testing

/// Password guessing against the real `deputyd`, at its real password-hash cost.
@Suite("Brute force", .serialized)
struct SecurityBruteForceTests {
    @Test("the lockout count is configurable; locked, unknown and wrong all answer alike and cost alike")
    func guessing() async throws {
        let daemon = try await SecurityDaemon.start(["--lockout-failures", "3", "--lockout-address-failures", "1000"])
        let admin = try await daemon.adminClient()
        #expect(try await admin.send("ADD USER alice@example.test password=alice-right") == ["OK user alice@example.test added (revision 2)"])
        let guesser = try await daemon.tlsClient()
        let refused = ["ERR auth invalid credentials"]

        // Two wrong guesses leave the account open; the third locks it.
        for _ in 0..<2 { #expect(try await guesser.send("BIND alice@example.test wrong") == refused) }
        let other = try await daemon.tlsClient()
        #expect(try await other.send("BIND alice@example.test alice-right") == ["OK bound as alice@example.test"])
        for _ in 0..<3 { #expect(try await guesser.send("BIND alice@example.test wrong") == refused) }

        // Now: an unknown login, a wrong password and the right one on the locked account
        // get the same answer after the same work (a hash is checked in every case).
        var times: [String: [Duration]] = [:]
        for round in 0..<7 {
            for (kind, line) in [
                ("unknown", "BIND ghost\(round)@example.test wrong"), ("locked, wrong", "BIND alice@example.test wrong"),
                ("locked, right", "BIND alice@example.test alice-right"),
            ] {
                let start = ContinuousClock.now
                #expect(try await guesser.send(line) == refused, "\(kind)")
                times[kind, default: []].append(ContinuousClock.now - start)
            }
        }
        let medians = times.mapValues { $0.sorted()[$0.count / 2] }
        let slowest = medians.values.max()!
        let fastest = medians.values.min()!
        #expect(slowest < fastest * 1.5, "median BIND times differ: \(medians)")
        // A hash at the daemon's cost takes real time; an answer without one would not.
        #expect(fastest > .milliseconds(20), "\(medians)")
        print("BIND medians at the daemon's hash cost: \(medians)")
        #expect(await daemon.stop())
    }

    @Test("failures from one address lock nobody else; many addresses slow only the addresses the account has not logged in from; Helpdesk sees it all")
    func throttleCantBeTurnedAgainstItsOwner() async throws {
        let daemon = try await SecurityDaemon.start()
        // The super administrator works from 127.0.0.1: a known address from now on.
        let admin = try await daemon.adminClient()
        let refused = "ERR auth invalid credentials"
        let accepted = "OK bound as admin@example.test"
        func bind(_ password: String, from source: String) throws -> String? {
            let socket = try RawSocket(port: daemon.plainPort, source: source)
            _ = socket.readLine()
            socket.send("BIND admin@example.test \(password)\n")
            return socket.readLine()
        }
        // Anyone who reaches a port hammers the super administrator from one address...
        for _ in 0..<25 { #expect(try bind("guess", from: "127.0.0.2") == refused) }
        #expect(try bind(daemon.password, from: "127.0.0.2") == refused)
        // ...and locks only that address out: the owner gets in from its own address and
        // from one that was never seen.
        #expect(try bind(daemon.password, from: "127.0.0.1") == accepted)
        #expect(try bind(daemon.password, from: "127.0.0.3") == accepted)
        // Twenty addresses guessing together start the account's delay: guesses arriving
        // before it has passed are refused unread, while known addresses are not slowed.
        for index in 10..<30 { #expect(try bind("guess", from: "127.0.0.\(index)") == refused) }
        #expect(try bind(daemon.password, from: "127.0.0.1") == accepted)
        #expect(try bind(daemon.password, from: "127.0.0.3") == accepted)

        let audit = try await admin.send("AUDIT target=admin@example.test limit=1000")
        let failed = audit.filter { $0.contains("action=login-failed") }
        let locked = audit.filter { $0.contains("action=login-locked") }
        // From 127.0.0.2: the five judged failures; the twentieth attempt locked the address.
        #expect(failed.filter { $0.contains("source=127.0.0.2 ") }.count == 5, "\(failed)")
        #expect(locked.contains { $0.contains("source=127.0.0.2 ") && $0.contains("locked=login-from-source") }, "\(locked)")
        #expect(locked.contains { $0.contains("source=127.0.0.2 ") && $0.contains("locked=source") }, "\(locked)")
        #expect(locked.contains { $0.contains("locked=login") && !$0.contains("locked=login-") }, "\(locked)")
        let spread = failed.filter { line in (10..<30).contains { line.contains("source=127.0.0.\($0) ") } }
        #expect(spread.count >= 5 && spread.count < 20, "judged guesses from the twenty addresses: \(spread.count)")
        #expect(!audit.contains { $0.contains("guess") || $0.contains(daemon.password) })
        #expect(await daemon.stop())
    }
}
