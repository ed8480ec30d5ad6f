import Foundation
import Metrics
import Synchronization

/// Counts failed logins and decides which attempts may still succeed, so that guessing stays
/// slow without letting anyone lock an account's owner out.
///
/// Failures count per (login, client address) and per client address: five wrong passwords
/// for alice from one address lock alice from that address only, and twenty failures from
/// one address lock the address. A correct password from an address that has not been
/// failing still gets in while another address hammers the same login.
///
/// Many addresses together are slowed by a delay on the login itself: once a login has
/// failed ``Policy/delayThreshold`` times (judged failures, from any source), an attempt
/// from a source it has not recently seen succeed is checked only after a delay that
/// doubles with each further failure, up to ``Policy/maximumDelay``; attempts before then
/// fail. A source the login succeeded from
/// within ``Policy/knownSourceLifetime`` is exempt, so its owner still gets in. With the
/// defaults, 1,000 guesses against one login take at least 16 hours however many addresses
/// they come from.
///
/// A refused attempt answers exactly like a wrong password, so a guesser learns nothing
/// from the throttle. The numbers are documented in docs/security.md.
public final class LoginThrottle: Sendable {
    /// The numbers of the throttle.
    public struct Policy: Sendable, Equatable {
        /// Failures of one login from one client address, within ``window``, that lock the
        /// login from that address. Twice as many from anywhere start the login's delay for
        /// unknown sources, so that one address alone can never slow anyone else.
        public var accountFailures: Int = 5
        /// Failures from one client address, within ``window``, that lock the address.
        public var addressFailures: Int = 20
        /// How long failures are remembered.
        public var window: TimeInterval = 900
        /// How long a lock lasts.
        public var lockout: TimeInterval = 900
        /// The first delay on a login for unknown sources; each further failure doubles it.
        public var firstDelay: TimeInterval = 1
        /// The longest delay on a login for unknown sources.
        public var maximumDelay: TimeInterval = 60
        /// How long a source stays known to a login after a successful login from it.
        public var knownSourceLifetime: TimeInterval = 30 * 86_400

        public init() {}

        /// Judged failures of a login from anywhere after which its delay for unknown
        /// sources starts: twice ``accountFailures``.
        public var delayThreshold: Int { 2 * accountFailures }

        /// The delay after `failures` judged failures of a login from anywhere: none below
        /// ``delayThreshold``, then ``firstDelay`` doubling up to ``maximumDelay``.
        public func delay(afterFailures failures: Int) -> TimeInterval {
            guard failures >= delayThreshold else { return 0 }
            let doublings = min(failures - delayThreshold, 32)
            return min(firstDelay * pow(2, Double(doublings)), maximumDelay)
        }
    }

    /// What one failure locked, if anything.
    public enum Lock: String, Sendable {
        /// The login, from the failing address.
        case loginFromSource = "login-from-source"
        /// The client address, for every login.
        case source
        /// The login, for sources it has not seen succeed: its delay started.
        case login
    }

    private struct Counter {
        var failures: Int = 0
        var lastFailure: Date
        var lockedUntil: Date?
    }

    private struct LoginState {
        var failures: Int = 0
        var lastFailure: Date = .distantPast
        /// Unknown sources are not checked before this time.
        var notBefore: Date = .distantPast
        /// Unknown sources with attempts admitted and not yet judged: each counts as a
        /// failure for the delay already, once however many connections it has in flight.
        var pending: Int = 0
        /// The attempts in flight from each of those sources.
        var inFlight: [String: Int] = [:]
        /// Sources the login succeeded from, with the time of the last success.
        var knownSources: [String: Date] = [:]
    }

    private struct PairKey: Hashable {
        let login: String
        let source: String
    }

    private struct State {
        var policy: Policy
        var pairs: [PairKey: Counter] = [:]
        var sources: [String: Counter] = [:]
        var logins: [String: LoginState] = [:]
    }

    /// The policy in force.
    public var policy: Policy { state.withLock { $0.policy } }
    private let state: Mutex<State>
    /// Bounds the memory an attacker can make the throttle use with many logins or addresses.
    private let maximumTracked: Int
    /// How many sources each login remembers as known.
    private static let knownSourcesPerLogin = 16

    public init(policy: Policy = Policy(), maximumTracked: Int = 100_000) {
        state = Mutex(State(policy: policy))
        self.maximumTracked = maximumTracked
    }

    /// A new policy (SIGHUP): counts so far are kept and judged by it from the next failure.
    public func update(policy: Policy) {
        state.withLock { $0.policy = policy }
    }

    /// Whether an attempt for `login` from `source` at `now` may be judged (its password
    /// may let it in): not when the login is locked from that source, the source is locked,
    /// or the source is unknown to the login and the login's delay has not passed.
    ///
    /// Admitting an unknown source while the login is delayed takes the delay's one slot at
    /// once, as if the attempt had already failed: attempts that arrive together while its
    /// password is being checked are refused, so any number of concurrent guessers get one
    /// judged guess per delay between them.
    public func admit(account login: String, address source: String, now: Date) -> Bool {
        let key = login.lowercased()
        return state.withLock { state in
            if Self.locked(state.pairs[PairKey(login: key, source: source)], now: now) { return false }
            if Self.locked(state.sources[source], now: now) { return false }
            var entry = state.logins[key] ?? LoginState()
            if Self.isKnown(source, in: entry, policy: state.policy, now: now) { return true }
            guard now >= entry.notBefore else { return false }
            if now.timeIntervalSince(entry.lastFailure) > state.policy.window {
                entry.failures = 0
                entry.pending = 0
                entry.inFlight = [:]
            }
            // Attempts in flight count as the failures they may turn out to be, one per
            // source: a burst of guesses from many addresses is slowed like a sequence, while
            // a mail server reconnecting all its connections at once from one address counts
            // once.
            entry.inFlight[source, default: 0] += 1
            if entry.inFlight[source] == 1 { entry.pending += 1 }
            let delay = state.policy.delay(afterFailures: entry.failures + entry.pending)
            if delay > 0 { entry.notBefore = now.addingTimeInterval(delay) }
            entry.lastFailure = max(entry.lastFailure, now)
            state.logins[key] = entry
            return true
        }
    }

    /// Whether an attempt would be refused unjudged right now (``admit(account:address:now:)``
    /// without taking a slot).
    public func isLocked(account login: String, address source: String, now: Date) -> Bool {
        let key = login.lowercased()
        return state.withLock { state in
            if Self.locked(state.pairs[PairKey(login: key, source: source)], now: now) { return true }
            if Self.locked(state.sources[source], now: now) { return true }
            guard let entry = state.logins[key] else { return false }
            if Self.isKnown(source, in: entry, policy: state.policy, now: now) { return false }
            return now < entry.notBefore
        }
    }

    /// Records a failed attempt: `judged` when ``admit(account:address:now:)`` admitted it and
    /// its password was wrong, not when the throttle refused it first. Only judged failures
    /// count against the login, so that an address already refused adds nothing and an owner
    /// retrying during a delay does not lock themselves out; every failure counts against
    /// the address. Returns what the failure locked, if anything.
    @discardableResult
    public func recordFailure(account login: String, address source: String, now: Date, judged: Bool) -> Lock? {
        ServerMetrics.bindFailures.increment()
        let key = login.lowercased()
        let lock: Lock? = state.withLock { state in
            prune(&state, now: now)
            let policy = state.policy
            let pairKey = PairKey(login: key, source: source)
            var entry = state.logins[key] ?? LoginState()
            let known = Self.isKnown(source, in: entry, policy: policy, now: now)
            var lock: Lock?
            if judged, Self.fail(&state.pairs[pairKey, default: Counter(lastFailure: now)], limit: policy.accountFailures, policy: policy, now: now) {
                lock = .loginFromSource
            }
            if Self.fail(&state.sources[source, default: Counter(lastFailure: now)], limit: policy.addressFailures, policy: policy, now: now) {
                lock = .source
            }
            // A failure from a known source (its owner mistyping) never slows the others.
            if judged, !known {
                Self.settle(source, in: &entry)
                entry.failures += 1
                entry.lastFailure = now
                let delay = policy.delay(afterFailures: entry.failures)
                if delay > 0 { entry.notBefore = max(entry.notBefore, now.addingTimeInterval(delay)) }
                if entry.failures == policy.delayThreshold, lock == nil { lock = .login }
                state.logins[key] = entry
            }
            return lock
        }
        if lock != nil { ServerMetrics.lockouts.increment() }
        return lock
    }

    /// One attempt from `source` was judged: when it was the source's last in flight, the
    /// source no longer counts as pending.
    private static func settle(_ source: String, in entry: inout LoginState) {
        guard let count = entry.inFlight[source] else { return }
        if count <= 1 {
            entry.inFlight[source] = nil
            entry.pending = max(0, entry.pending - 1)
        } else {
            entry.inFlight[source] = count - 1
        }
    }

    /// Records a successful login from `source`: its failures from there are forgotten and
    /// the source becomes known to the login. Failures from elsewhere still count.
    public func recordSuccess(account login: String, address source: String, now: Date) {
        let key = login.lowercased()
        state.withLock { state in
            prune(&state, now: now)
            state.pairs[PairKey(login: key, source: source)] = nil
            var entry = state.logins[key] ?? LoginState()
            if entry.knownSources[source] == nil { Self.settle(source, in: &entry) }
            entry.knownSources[source] = now
            if entry.knownSources.count > Self.knownSourcesPerLogin,
                let oldest = entry.knownSources.min(by: { $0.value < $1.value })?.key {
                entry.knownSources[oldest] = nil
            }
            state.logins[key] = entry
        }
    }

    // MARK: - Internals

    private static func isKnown(_ source: String, in entry: LoginState, policy: Policy, now: Date) -> Bool {
        guard let last = entry.knownSources[source] else { return false }
        return now.timeIntervalSince(last) <= policy.knownSourceLifetime
    }

    private static func locked(_ counter: Counter?, now: Date) -> Bool {
        guard let until = counter?.lockedUntil else { return false }
        return now < until
    }

    private static func fail(_ counter: inout Counter, limit: Int, policy: Policy, now: Date) -> Bool {
        if let until = counter.lockedUntil {
            guard now >= until else { return false }
            counter = Counter(lastFailure: now)
        } else if now.timeIntervalSince(counter.lastFailure) > policy.window {
            counter = Counter(lastFailure: now)
        }
        counter.failures += 1
        counter.lastFailure = now
        if counter.failures >= limit {
            counter.lockedUntil = now.addingTimeInterval(policy.lockout)
            return true
        }
        return false
    }

    /// Keeps the tables within ``maximumTracked`` entries: first forgets what has expired,
    /// and only if an attacker still fills a table, the entries that lock nothing, so that
    /// flooding the throttle with new names never lifts a lock.
    private func prune(_ state: inout State, now: Date) {
        let policy = state.policy
        func stale(_ counter: Counter) -> Bool {
            if let until = counter.lockedUntil { return now >= until }
            return now.timeIntervalSince(counter.lastFailure) > policy.window
        }
        if state.pairs.count >= maximumTracked {
            state.pairs = state.pairs.filter { !stale($0.value) }
            if state.pairs.count >= maximumTracked { state.pairs = state.pairs.filter { $0.value.lockedUntil != nil } }
        }
        if state.sources.count >= maximumTracked {
            state.sources = state.sources.filter { !stale($0.value) }
            if state.sources.count >= maximumTracked { state.sources = state.sources.filter { $0.value.lockedUntil != nil } }
        }
        if state.logins.count >= maximumTracked {
            state.logins = state.logins.filter { entry in
                now < entry.value.notBefore || now.timeIntervalSince(entry.value.lastFailure) <= policy.window
                    || entry.value.knownSources.values.contains { now.timeIntervalSince($0) <= policy.knownSourceLifetime }
            }
            if state.logins.count >= maximumTracked { state.logins = state.logins.filter { now < $0.value.notBefore } }
        }
    }
}
