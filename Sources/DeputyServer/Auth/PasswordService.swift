import DeputyCore
import NIOPosix

/// Hashes and verifies passwords on a thread pool of their own.
///
/// Hashing is slow on purpose (hundreds of milliseconds at the production cost), so it
/// must never run on an event loop, nor on the few threads of Swift's cooperative pool
/// that every connection shares.
public struct PasswordService: Sendable {
    /// The hasher for new passwords.
    public let hasher: PasswordHasher
    private let pool: NIOThreadPool
    /// A hash to verify against when a login is unknown, so that unknown and known logins
    /// take the same time.
    private let decoy: PasswordHash
    /// A valid hash used in place of a real one while checking whether a command would be
    /// allowed at all, so that refused commands cost no hashing.
    let placeholder: PasswordHash

    /// Creates the service on `pool`, which must be started.
    public init(hasher: PasswordHasher, pool: NIOThreadPool) {
        self.hasher = hasher
        self.pool = pool
        self.decoy = hasher.makeDecoyHash()
        self.placeholder = decoy
    }

    /// Hashes `password` off the calling thread.
    public func hash(_ password: String) async throws -> PasswordHash {
        let hasher = self.hasher
        return try await pool.runIfActive { hasher.hash(password) }
    }

    /// Verifies `password` against `hash`, or against the decoy when `hash` is `nil`
    /// (an unknown login) or ``PasswordHash/none`` (no password set), which then always
    /// fails: in the same time, so that timing tells no account apart.
    public func verify(_ password: String, against hash: PasswordHash?) async throws -> Bool {
        let hasher = self.hasher
        let real = hash.flatMap { $0.isSet ? $0 : nil }
        let target = real ?? decoy
        let matches = try await pool.runIfActive { hasher.verify(password, against: target) }
        return real != nil && matches
    }
}
