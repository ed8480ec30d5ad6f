import Foundation
import Testing

/// Attacks on the daemon's resources, against the real `deputyd` in its own process: its
/// memory is read from /proc and its connections are ordinary sockets.
@Suite("Attacks on resources", .serialized)
struct SecurityResourceTests {
    static let mebibyte = 1 << 20

    @Test("a stream with no newline is cut at the line limit, before and after BIND, and memory stays flat")
    func endlessLine() async throws {
        let daemon = try await SecurityDaemon.start()
        let before = try daemon.residentBytes
        let chunk = [UInt8](repeating: UInt8(ascii: "A"), count: Self.mebibyte)
        for bound in [false, true] {
            let socket = try RawSocket(port: daemon.plainPort)
            #expect(socket.readLine()?.hasPrefix("OK deputyd") == true)
            if bound {
                socket.send("BIND admin@example.test \(daemon.password)\n")
                #expect(socket.readLine() == "OK bound as admin@example.test")
            }
            // Up to 1 GiB, until the daemon closes the connection.
            var sent = 0
            while sent < 1_024 * Self.mebibyte {
                let count = socket.send(chunk)
                sent += count
                if count < chunk.count { break }
            }
            #expect(sent < 64 * Self.mebibyte, "the daemon read \(sent) bytes of one line")
            #expect(socket.isClosed(milliseconds: 10_000))
        }
        let after = try daemon.residentBytes
        #expect(after - before < 16 * Self.mebibyte, "resident memory grew from \(before) to \(after) bytes")
        // And it goes on serving.
        let admin = try await daemon.adminClient()
        #expect(try await admin.send("PING") == ["OK pong"])
        #expect(daemon.logText.contains("connection closed on a protocol limit"))
        #expect(await daemon.stop(), "deputyd did not shut down cleanly within 30 s")
    }

    @Test("the connection limit plus 100: the extras are refused, established clients keep working")
    func connectionFlood() async throws {
        let daemon = try await SecurityDaemon.start(["--max-connections", "20"])
        var established: [RawSocket] = []
        for _ in 0..<20 {
            let socket = try RawSocket(port: daemon.plainPort)
            #expect(socket.readLine()?.hasPrefix("OK deputyd") == true)
            established.append(socket)
        }
        established[0].send("BIND admin@example.test \(daemon.password)\n")
        #expect(established[0].readLine() == "OK bound as admin@example.test")
        var extras: [RawSocket] = []
        for _ in 0..<100 {
            let extra = try RawSocket(port: daemon.plainPort)
            #expect(extra.readLine() == "ERR limit too many connections")
            extras.append(extra)
        }
        for extra in extras { #expect(extra.isClosed(milliseconds: 10_000)) }
        for socket in established {
            socket.send("PING\n")
            #expect(socket.readLine() == "OK pong")
        }
        established[0].send("QUERY SENDAS admin@example.test admin@example.test\n")
        #expect(established[0].readLine() == "* allowed=yes via=own")
        #expect(await daemon.stop(), "deputyd did not shut down cleanly within 30 s")
    }

    @Test("1,000 idle, slow and half-handshaken connections are closed at the idle timeout; an honest client keeps its latency")
    func slowConnections() async throws {
        let idleSeconds = 3.0
        let daemon = try await SecurityDaemon.start(["--idle-timeout", "\(idleSeconds)", "--max-connections", "1100"])
        let honest = try await daemon.tlsClient()
        let baseline = try await Self.medianPing(honest)

        let opened = ContinuousClock.now
        var attackers: [RawSocket] = []
        for index in 0..<1_000 {
            switch index % 10 {
            case 0..<4:
                // Connects to the TLS port and says nothing.
                attackers.append(try RawSocket(port: daemon.tlsPort))
            case 4..<7:
                // Starts a TLS handshake: a record header promising 512 bytes of ClientHello, and 16 of them.
                let socket = try RawSocket(port: daemon.tlsPort)
                socket.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + [UInt8](repeating: 7, count: 10))
                attackers.append(socket)
            default:
                // Plaintext, a request without its end.
                let socket = try RawSocket(port: daemon.plainPort)
                socket.send("PIN")
                attackers.append(socket)
            }
        }
        let loaded = try await Self.medianPing(honest)
        #expect(loaded <= baseline * 2, "median PING took \(loaded) beside 1,000 slow connections, \(baseline) without")

        // Every attacker is closed once the idle timeout has passed, not before; the honest
        // client, busy all along, stays.
        var open = attackers
        let deadline = ContinuousClock.now + .seconds(idleSeconds + 30)
        var firstClose: ContinuousClock.Instant?
        while !open.isEmpty, ContinuousClock.now < deadline {
            if open[0].isClosed(milliseconds: 100) { open.removeFirst() }
            open.removeAll { $0.isClosed(milliseconds: 0) }
            if firstClose == nil, open.count < attackers.count { firstClose = .now }
            #expect(try await honest.send("PING") == ["OK pong"])
        }
        #expect(open.count == 0, "\(open.count) of 1,000 slow connections still open \(idleSeconds + 30) s later")
        if let firstClose { #expect(firstClose - opened >= .seconds(idleSeconds)) }
        #expect(try await honest.send("PING") == ["OK pong"])
        #expect(await daemon.stop(), "deputyd did not shut down cleanly within 30 s")
    }

    @Test("a client that pipelines without reading is held at the cap, with memory bounded, and then answered in full")
    func pipeliningWithoutReading() async throws {
        let daemon = try await SecurityDaemon.start(["--max-pending", "64"])
        let socket = try RawSocket(port: daemon.plainPort)
        #expect(socket.readLine()?.hasPrefix("OK deputyd") == true)
        let before = try daemon.residentBytes
        // BIND first, so the queries queue behind a request that waits, then a stream of
        // queries with no reading at all until the daemon stops taking them.
        let line = Array("QUERY SENDAS admin@example.test admin@example.test\n".utf8)
        let chunk = Array([[UInt8]](repeating: line, count: 1_000).joined())
        var pending = ArraySlice(Array("BIND admin@example.test \(daemon.password)\n".utf8) + chunk)
        var queries = 1_000
        var sent = 0
        var held = false
        while sent < 256 * Self.mebibyte {
            if pending.isEmpty {
                pending = chunk[...]
                queries += 1_000
            }
            guard let count = socket.sendWithoutWaiting(Array(pending)) else { break }
            sent += count
            pending = pending.dropFirst(count)
            // Two seconds without room to write: the daemon has stopped reading.
            if count == 0, !socket.waitUntilWritable(milliseconds: 2_000) {
                held = true
                break
            }
        }
        #expect(held, "the daemon read \(sent) bytes from a client that read nothing")
        let whileHeld = try daemon.residentBytes
        #expect(whileHeld - before < 64 * Self.mebibyte, "resident memory grew from \(before) to \(whileHeld) bytes")

        // Now read: every request is answered, in order.
        #expect(socket.readLine() == "OK bound as admin@example.test")
        var answered = 0
        while answered < queries {
            if !pending.isEmpty, let count = socket.sendWithoutWaiting(Array(pending)) { pending = pending.dropFirst(count) }
            guard let data = socket.readLine(), data == "* allowed=yes via=own", socket.readLine() == "OK" else { break }
            answered += 1
        }
        #expect(answered == queries)
        socket.send("PING\n")
        #expect(socket.readLine() == "OK pong")
        print("pipelining without reading: held after \(sent) bytes (\(queries) queries written); daemon memory \(before >> 20) MiB -> \(whileHeld >> 20) MiB")
        #expect(await daemon.stop(), "deputyd did not shut down cleanly within 30 s")
    }

    @Test("SIGTERM with stalled clients connected still ends the daemon within seconds")
    func shutdownWithStalledClients() async throws {
        let daemon = try await SecurityDaemon.start()
        var stalled: [RawSocket] = []
        for index in 0..<60 {
            let socket = try RawSocket(port: index < 40 ? daemon.tlsPort : daemon.plainPort)
            if index >= 20, index < 40 { socket.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]) }
            stalled.append(socket)
        }
        // One that pipelines and never reads, so its replies can't leave.
        let reader = stalled[59]
        #expect(reader.readLine()?.hasPrefix("OK deputyd") == true)
        let line = Array("QUERY SENDAS admin@example.test admin@example.test\n".utf8)
        var pending = ArraySlice(Array("BIND admin@example.test \(daemon.password)\n".utf8) + Array([[UInt8]](repeating: line, count: 1_000).joined()))
        while let count = reader.sendWithoutWaiting(Array(pending)) {
            pending = pending.dropFirst(count)
            if pending.isEmpty { pending = ArraySlice(Array([[UInt8]](repeating: line, count: 1_000).joined())) }
            if count == 0, !reader.waitUntilWritable(milliseconds: 2_000) { break }
        }
        // And an honest TLS client, idle: TLS can't close only the input side.
        let idle = try await daemon.tlsClient()
        #expect(try await idle.send("PING") == ["OK pong"])
        let started = ContinuousClock.now
        #expect(await daemon.stop(), "deputyd did not shut down cleanly within 30 s")
        let took = ContinuousClock.now - started
        #expect(took < .seconds(15), "shutdown took \(took)")
        print("shutdown with 60 stalled clients and an idle TLS one took \(took)")
        #expect(try await idle.readLine() == nil)
        withExtendedLifetime(stalled) {}
    }

    @Test("out of descriptors: the daemon warns at start, keeps serving and storing, and accepts again once connections close")
    func descriptorExhaustion() async throws {
        // 48 descriptors in all, about 22 of them the daemon's own: far below the 1,024
        // connections it is configured for.
        let daemon = try await SecurityDaemon.start(launcher: ["/usr/bin/prlimit", "--nofile=48:48", "--"])
        #expect(daemon.logText.contains("the open-file limit is below what the connection limits need"))
        #expect(daemon.logText.contains("limit.open-files=48 (hard 48)"))
        let admin = try await daemon.adminClient()
        // More connections than descriptors: the first are accepted, then accept(2) fails
        // with EMFILE and the rest wait in the listen queue.
        var flood: [RawSocket] = []
        for _ in 0..<60 { flood.append(try RawSocket(port: daemon.plainPort)) }
        var full = false
        for _ in 0..<1_000 where !full {
            full = daemon.openDescriptors >= 48
            if !full { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(full, "the daemon holds \(daemon.openDescriptors) descriptors")
        // With no descriptor free, the established client is answered and a change is
        // acknowledged (the journal is already open).
        #expect(try await admin.send("PING") == ["OK pong"])
        #expect(try await WireTests.status(admin.send("ADD USER fd@example.test password=fd-secret-1")) == "OK user fd@example.test added")
        #expect(kill(daemon.pid, 0) == 0, "deputyd exited: \(daemon.logText)")
        flood.removeAll()
        // Once descriptors are free the listener accepts again (after NIO's one-second
        // accept back-off), and the change is there.
        var greeted = false
        for _ in 0..<100 where !greeted {
            let fresh = try RawSocket(port: daemon.plainPort)
            greeted = fresh.readLine(milliseconds: 1_000)?.hasPrefix("OK deputyd") == true
            if greeted {
                fresh.send("BIND fd@example.test fd-secret-1\n")
                #expect(fresh.readLine() == "OK bound as fd@example.test")
            }
        }
        #expect(greeted, "no new connection was accepted after the flood closed")
        #expect(try await admin.send("PING") == ["OK pong"])
        #expect(await daemon.stop(), "deputyd did not shut down cleanly within 30 s")
    }

    @Test("a soft open-file limit below what the connection limits need is raised toward the hard limit")
    func descriptorLimitRaised() async throws {
        let daemon = try await SecurityDaemon.start(["--max-connections", "2000"], launcher: ["/usr/bin/prlimit", "--nofile=256:8192", "--"])
        let limits = try String(contentsOfFile: "/proc/\(daemon.pid)/limits", encoding: .utf8)
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // "Max open files  SOFT  HARD  files"
        let soft = Int(fields.dropLast(2).last ?? "") ?? 0
        #expect(soft >= 2_000 + 64, "\(line)")
        #expect(soft < 8_192, "raised to what is needed, not to the hard limit: \(line)")
        #expect(daemon.logText.contains("raised the open-file limit"))
        #expect(!daemon.logText.contains("the open-file limit is below"))
        #expect(await daemon.stop(), "deputyd did not shut down cleanly within 30 s")
    }

    /// The median round trip of 200 PINGs, one at a time.
    static func medianPing(_ client: LineClient) async throws -> Duration {
        var times: [Duration] = []
        for _ in 0..<200 {
            let start = ContinuousClock.now
            #expect(try await client.send("PING") == ["OK pong"])
            times.append(ContinuousClock.now - start)
        }
        return times.sorted()[times.count / 2]
    }
}
