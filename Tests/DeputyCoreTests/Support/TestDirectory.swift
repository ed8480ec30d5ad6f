import HashTreeCollections
import DeputyCore
import Foundation
import Testing

/// A small organisation for tests, with a clock the test moves by hand.
///
/// acme.test: `boss` is the super administrator; `admin` an administrator; `alice`, `bob`,
/// `carol` users; `helper` a user with the Helpdesk role.
struct TestDirectory {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    /// A cheap hasher: tests need hashes that verify, not ones that resist cracking.
    static let hasher = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000))
    static let hash = hasher.hash("correct horse")

    var directory = Directory()
    var now = start

    init(organization: Bool = true) {
        guard organization else { return }
        expectApplied(
            .createOrganization(
                NewOrganization(
                    name: "Acme", domain: DomainName("acme.test")!, superAdministrator: Self.address("boss"),
                    superAdministratorName: "The Boss", passwordHash: Self.hash
                )
            ), as: .system
        )
        for name in ["admin", "alice", "bob", "carol", "helper"] {
            expectApplied(.addUser(NewUser(address: Self.address(name), displayName: name.capitalized, passwordHash: Self.hash)), as: .system)
        }
        expectApplied(.setRole(Self.address("admin"), .administrator), as: principal("boss"))
        expectApplied(.grantCustomRole(Self.address("helper"), .helpdesk), as: principal("admin"))
    }

    static func address(_ name: String) -> EmailAddress {
        EmailAddress(name.contains("@") ? name : "\(name)@acme.test")!
    }

    /// The principal of the user called `name`.
    func principal(_ name: String) -> Principal {
        switch directory.owner(of: Self.address(name)) {
        case .user(let id): return .user(id)
        default:
            Issue.record("no user \(name)")
            return .system
        }
    }

    func user(_ name: String) -> User? {
        directory.user(at: Self.address(name))
    }

    @discardableResult
    mutating func apply(_ command: Command, as actor: Principal, reauthenticatedAt: Date? = nil, factorVerifiedAt: Date? = nil) -> Result<CommandResult, DirectoryError> {
        directory.apply(command, context: CommandContext(actor: actor, time: now, reauthenticatedAt: reauthenticatedAt, factorVerifiedAt: factorVerifiedAt))
    }

    mutating func expectApplied(
        _ command: Command, as actor: Principal, reauthenticatedAt: Date? = nil, factorVerifiedAt: Date? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let result = apply(command, as: actor, reauthenticatedAt: reauthenticatedAt, factorVerifiedAt: factorVerifiedAt)
        if case .failure(let error) = result {
            Issue.record("expected \(command) to apply, got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Applies a command that must be refused with `code` (and `rule`, when given), and
    /// checks that the refusal changed nothing but the audit log.
    mutating func expectRefused(
        _ command: Command, as actor: Principal, code: DirectoryError.Code, rule: Rule? = nil,
        reauthenticatedAt: Date? = nil, factorVerifiedAt: Date? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let before = DirectoryFingerprint(directory)
        let result = apply(command, as: actor, reauthenticatedAt: reauthenticatedAt, factorVerifiedAt: factorVerifiedAt)
        switch result {
        case .success:
            Issue.record("expected \(command) to be refused", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            if let rule { #expect(error.rule == rule, "\(error)", sourceLocation: sourceLocation) }
        }
        #expect(DirectoryFingerprint(directory) == before, "a refused command changed the directory", sourceLocation: sourceLocation)
        let last = directory.auditLog[directory.auditLog.lastSequence]
        if case .refused = last?.outcome {} else {
            Issue.record("the refusal is not in the audit log", sourceLocation: sourceLocation)
        }
    }
}

/// Everything in a directory except its audit log and revision, for comparing versions.
struct DirectoryFingerprint: Equatable {
    let organization: Organization?
    let users: [EntityID: User]
    let groups: [EntityID: Group]
    let services: [EntityID: ServiceAccount]
    let delegations: [EntityID: Delegation]
    let policies: [String: EmailPolicy]
    let spam: SpamSettings
    let superAdministrator: EntityID?
    let nextIdentity: UInt64
    let secondFactors: [EntityID: SecondFactor]

    init(_ directory: Directory) {
        organization = directory.organization
        users = Dictionary(uniqueKeysWithValues: directory.users.map { ($0.key, $0.value) })
        groups = Dictionary(uniqueKeysWithValues: directory.groups.map { ($0.key, $0.value) })
        services = Dictionary(uniqueKeysWithValues: directory.services.map { ($0.key, $0.value) })
        delegations = Dictionary(uniqueKeysWithValues: directory.delegations.map { ($0.key, $0.value) })
        policies = Dictionary(uniqueKeysWithValues: directory.policies.map { ($0.key, $0.value) })
        spam = directory.spamSettings
        superAdministrator = directory.superAdministrator
        nextIdentity = directory.nextIdentity
        secondFactors = Dictionary(uniqueKeysWithValues: directory.secondFactors.map { ($0.key, $0.value) })
    }
}
