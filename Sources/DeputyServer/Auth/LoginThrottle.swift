import Foundation
import Metrics
import Synchronization

/// Counts failed logins per account and per client address, and locks either out for a
/// while after too many.
///
/// A locked account or address answers exactly like a wrong password, so a guesser learns
/// nothing from the lock. The numbers are documented in protocol.md.
public final class LoginThrottle: Sendable {
    /// The numbers of the throttle.
    public struct Policy: Sendable {
        /// Failures of one account, within ``window``, that lock it.
        public var accountFailures: Int = 5
        /// Failures from one client address, within ``window``, that lock it.
        public var addressFailures: Int = 20
        /// How long failures are remembered.
        public var window: TimeInterval = 900
        /// How long a lock lasts.
        public var lockout: TimeInterval = 900

        public init() {}
    }

    private struct Counter {
        var failures: Int = 0
        var firstFailure: Date
        var lockedUntil: Date?
    }

    private struct State {
        var policy: Policy
        var accounts: [String: Counter] = [:]
        var addresses: [String: Counter] = [:]
    }

    /// The policy in force.
    public var policy: Policy { state.withLock { $0.policy } }
    private let state: Mutex<State>
    /// Bounds the memory an attacker can make the throttle use with many logins or addresses.
    private let maximumTracked = 100_000

    public init(policy: Policy = Policy()) {
        state = Mutex(State(policy: policy))
    }

    /// A new policy (SIGHUP): counts so far are kept and judged by it from the next failure.
    public func update(policy: Policy) {
        state.withLock { $0.policy = policy }
    }

    /// Whether a login attempt for `account` from `address` may be checked at all at `now`.
    public func isLocked(account: String, address: String, now: Date) -> Bool {
        state.withLock { state in
            Self.locked(state.accounts[account.lowercased()], now: now) || Self.locked(state.addresses[address], now: now)
        }
    }

    /// Records a failed attempt; returns whether it locked the account or the address.
    @discardableResult
    public func recordFailure(account: String, address: String, now: Date) -> Bool {
        ServerMetrics.bindFailures.increment()
        let locked = state.withLock { state in
            if state.accounts.count > maximumTracked { state.accounts.removeAll() }
            if state.addresses.count > maximumTracked { state.addresses.removeAll() }
            let policy = state.policy
            let accountLocked = Self.fail(&state.accounts[account.lowercased(), default: Counter(firstFailure: now)], limit: policy.accountFailures, policy: policy, now: now)
            let addressLocked = Self.fail(&state.addresses[address, default: Counter(firstFailure: now)], limit: policy.addressFailures, policy: policy, now: now)
            return accountLocked || addressLocked
        }
        if locked { ServerMetrics.lockouts.increment() }
        return locked
    }

    /// Records a successful login: the account's failures are forgotten.
    public func recordSuccess(account: String) {
        _ = state.withLock { $0.accounts.removeValue(forKey: account.lowercased()) }
    }

    private static func locked(_ counter: Counter?, now: Date) -> Bool {
        guard let until = counter?.lockedUntil else { return false }
        return now < until
    }

    private static func fail(_ counter: inout Counter, limit: Int, policy: Policy, now: Date) -> Bool {
        if let until = counter.lockedUntil, now >= until {
            counter = Counter(firstFailure: now)
        } else if now.timeIntervalSince(counter.firstFailure) > policy.window, counter.lockedUntil == nil {
            counter = Counter(firstFailure: now)
        }
        counter.failures += 1
        if counter.failures >= limit, counter.lockedUntil == nil {
            counter.lockedUntil = now.addingTimeInterval(policy.lockout)
            return true
        }
        return false
    }
}
