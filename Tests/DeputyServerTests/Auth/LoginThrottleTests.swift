import DeputyServer
import Foundation
import Testing

/// The login throttle on its own, with a clock the test moves: no sockets, no hashing.
@Suite("Login throttle")
struct LoginThrottleTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// One attempt: refused by the throttle, or judged (and here always wrong).
    @discardableResult
    static func fail(_ throttle: LoginThrottle, _ login: String, from source: String, at now: Date) -> (judged: Bool, lock: LoginThrottle.Lock?) {
        let judged = throttle.admit(account: login, address: source, now: now)
        let lock = throttle.recordFailure(account: login, address: source, now: now, judged: judged)
        return (judged, lock)
    }

    @Test("one address hammering a login locks that login from that address only")
    func oneAddressLocksOnlyItself() {
        let throttle = LoginThrottle()
        var now = Self.start
        var locks: [LoginThrottle.Lock?] = []
        for _ in 0..<30 {
            locks.append(Self.fail(throttle, "boss@example.test", from: "192.0.2.66", at: now).lock)
            now += 1
        }
        #expect(locks[4] == .loginFromSource)
        #expect(locks.contains(.source))
        #expect(throttle.isLocked(account: "boss@example.test", address: "192.0.2.66", now: now))
        // The owner, from an address that has not been failing, whether it logged in before or not.
        #expect(!throttle.isLocked(account: "boss@example.test", address: "198.51.100.7", now: now))
        #expect(!throttle.isLocked(account: "BOSS@example.test", address: "198.51.100.8", now: now))
    }

    @Test("many addresses slow every address the login has not succeeded from, and never the ones it has")
    func manyAddressesSlowOnlyUnknownSources() {
        let throttle = LoginThrottle()
        var now = Self.start
        throttle.recordSuccess(account: "boss@example.test", address: "198.51.100.7", now: now)
        var lockedLogin = false
        for round in 0..<4 {
            for attacker in 0..<10 {
                if Self.fail(throttle, "boss@example.test", from: "203.0.113.\(attacker)", at: now).lock == .login { lockedLogin = true }
                _ = round
            }
            now += 0.1
        }
        #expect(lockedLogin, "the delay's start is a lockout record")
        #expect(throttle.isLocked(account: "boss@example.test", address: "192.0.2.200", now: now), "an unknown address waits")
        #expect(!throttle.isLocked(account: "boss@example.test", address: "198.51.100.7", now: now), "a known address does not")
        // The owner's own typo from the known address does not add to the delay.
        Self.fail(throttle, "boss@example.test", from: "198.51.100.7", at: now)
        #expect(!throttle.isLocked(account: "boss@example.test", address: "198.51.100.7", now: now))
        // Once the delay has passed, an unknown address is checked again.
        now += 61
        #expect(!throttle.isLocked(account: "boss@example.test", address: "192.0.2.200", now: now))
    }

    @Test("1,000 guesses from 100 addresses against one login take more than 16 hours")
    func guessingStaysSlow() {
        let throttle = LoginThrottle()
        var now = Self.start
        var judged = 0
        var attempts = 0
        // Each of 100 addresses guesses as fast as the daemon answers (one hash, about
        // 0.15 s on a 2-core machine, so 13 answers a second in all).
        while judged < 1_000 {
            let source = "203.0.113.\(attempts % 100)"
            if Self.fail(throttle, "boss@example.test", from: source, at: now).judged { judged += 1 }
            attempts += 1
            now += 1.0 / 13
        }
        let hours = now.timeIntervalSince(Self.start) / 3_600
        #expect(hours > 16, "1,000 judged guesses took \(hours) hours")
        print("1,000 judged guesses from 100 addresses: \(String(format: "%.1f", hours)) hours, \(attempts) attempts")
    }

    @Test("a retry during the delay does not lock its own address out")
    func retriesDuringTheDelay() {
        let throttle = LoginThrottle()
        var now = Self.start
        for attacker in 0..<10 { Self.fail(throttle, "boss@example.test", from: "203.0.113.\(attacker)", at: now) }
        // The owner from a new address tries every 100 ms while the delay runs: refused,
        // but never locked, and checked once it has passed.
        for _ in 0..<9 {
            #expect(throttle.isLocked(account: "boss@example.test", address: "192.0.2.9", now: now))
            Self.fail(throttle, "boss@example.test", from: "192.0.2.9", at: now)
            now += 0.1
        }
        now += 1
        #expect(!throttle.isLocked(account: "boss@example.test", address: "192.0.2.9", now: now))
    }

    @Test("guessers arriving together while one password is checked get one judged guess between them")
    func concurrentGuessersShareOneSlot() {
        let throttle = LoginThrottle()
        var now = Self.start
        for attacker in 0..<10 { Self.fail(throttle, "boss@example.test", from: "203.0.113.\(attacker)", at: now) }
        now += 60
        // Forty attempts admitted at the same moment, before any of them has failed.
        let admitted = (10..<50).filter { throttle.admit(account: "boss@example.test", address: "203.0.113.\($0)", now: now) }
        #expect(admitted.count == 1, "admitted together: \(admitted)")
    }

    @Test("a burst of logins on a login that has not failed is let in; once it has failed, a burst is slowed like a sequence")
    func bursts() {
        let throttle = LoginThrottle()
        // A mail server reconnecting fifty connections at once, from an address not yet known.
        let reconnecting = (0..<50).filter { _ in throttle.admit(account: "relay@example.test", address: "192.0.2.25", now: Self.start) }
        #expect(reconnecting.count == 50)
        // Before any failure too, a burst from many new addresses reaches the delay.
        let fresh = (0..<100).filter { throttle.admit(account: "chief@example.test", address: "198.51.100.\($0)", now: Self.start) }
        #expect(fresh.count == throttle.policy.delayThreshold, "one guess per address until the delay")
        // After failures, concurrent guesses from new addresses share the delay.
        var now = Self.start
        for attacker in 0..<3 { Self.fail(throttle, "boss@example.test", from: "203.0.113.\(attacker)", at: now) }
        now += 1
        let admitted = (10..<100).filter { throttle.admit(account: "boss@example.test", address: "203.0.113.\($0)", now: now) }
        #expect(admitted.count == throttle.policy.delayThreshold - 3, "the failures so far and the burst reach the delay together")
    }

    @Test("flooding the throttle with new logins never lifts a lock")
    func floodingKeepsLocks() {
        let throttle = LoginThrottle(maximumTracked: 100)
        var now = Self.start
        for _ in 0..<5 { Self.fail(throttle, "boss@example.test", from: "192.0.2.66", at: now) }
        #expect(throttle.isLocked(account: "boss@example.test", address: "192.0.2.66", now: now))
        for index in 0..<1_000 {
            Self.fail(throttle, "ghost\(index)@example.test", from: "198.51.100.\(index % 250)", at: now)
            now += 0.01
        }
        #expect(throttle.isLocked(account: "boss@example.test", address: "192.0.2.66", now: now))
    }

    @Test("IPv6 clients count by their /64; IPv4 and mapped IPv4 by their address")
    func sourcesByNetwork() {
        #expect(ClientSource.key("2001:db8:1:2:a:b:c:d") == "2001:db8:1:2::/64")
        #expect(ClientSource.key("2001:db8:1:2::99") == "2001:db8:1:2::/64")
        #expect(ClientSource.key("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(ClientSource.key("192.0.2.7") == "192.0.2.7")
        #expect(ClientSource.key("local") == "local")
    }
}
