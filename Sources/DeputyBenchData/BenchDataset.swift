import DeputyCore
import Foundation

/// A deterministic directory of a chosen size, the same on every run for the same sizes.
///
/// Users `user<i>@bench.test`, each with the alias `alias<i>@bench.test`; groups
/// `group<j>@bench.test` of about ten members, every fourth letting members send as it;
/// delegations of mixed permissions from a random mailbox to a random user (nine in ten)
/// or group, one in ten expiring an hour after the dataset's clock.
public struct BenchDataset: Sendable {
    public let users: Int
    public let groups: Int
    public let delegations: Int
    /// The time the dataset treats as now.
    public let now = Date(timeIntervalSince1970: 1_800_000_000)
    public init(users: Int, groups: Int, delegations: Int) {
        self.users = users
        self.groups = groups
        self.delegations = delegations
    }

    public static let domain = "bench.test"

    public static func user(_ i: Int) -> String { "user\(i)@\(domain)" }
    public static func alias(_ i: Int) -> String { "alias\(i)@\(domain)" }
    public static func group(_ j: Int) -> String { "group\(j)@\(domain)" }

    /// The directory as plain contents, built without going through commands.
    public func contents(passwordHash: PasswordHash) -> DirectoryContents {
        var random = BenchRandom(seed: 0x5EED)
        var nextID: UInt64 = 1
        func allocate() -> EntityID {
            defer { nextID += 1 }
            return EntityID(nextID)
        }
        var userList: [User] = []
        userList.reserveCapacity(users + 1)
        let superAdmin = User(
            id: allocate(), address: EmailAddress("admin@\(Self.domain)")!, displayName: "Administrator",
            role: .superAdministrator, passwordHash: passwordHash, createdAt: now
        )
        userList.append(superAdmin)
        for i in 0..<users {
            userList.append(User(
                id: allocate(), address: EmailAddress(Self.user(i))!, aliases: [EmailAddress(Self.alias(i))!],
                displayName: "User \(i)", passwordHash: passwordHash, createdAt: now
            ))
        }
        var groupList: [Group] = []
        groupList.reserveCapacity(groups)
        for j in 0..<groups {
            var members: [GroupMember] = []
            for _ in 0..<10 { members.append(.user(userList[1 + random.below(users)].id)) }
            groupList.append(Group(
                id: allocate(), address: EmailAddress(Self.group(j))!, name: "Group \(j)", kind: .organization, owner: nil,
                members: .init(members), membersMaySendAs: j % 4 == 0, createdAt: now
            ))
        }
        var delegationList: [Delegation] = []
        delegationList.reserveCapacity(delegations)
        var pairs = Set<[UInt64]>()
        let permissionChoices: [PermissionSet] = [
            PermissionSet([.read]), PermissionSet([.manage]), PermissionSet([.read, .sendAs]),
            PermissionSet([.read, .sendOnBehalf]), PermissionSet([.manage, .sendAs, .sendOnBehalf]), PermissionSet([.sendAs]),
        ]
        while delegationList.count < delegations {
            let mailbox = userList[1 + random.below(users)].id
            let delegate: Delegate = random.below(10) == 0 && groups > 0
                ? .group(groupList[random.below(groups)].id)
                : .user(userList[1 + random.below(users)].id)
            let key: [UInt64]
            switch delegate {
            case .user(let id):
                if id == mailbox { continue }
                key = [mailbox.rawValue, 0, id.rawValue]
            case .group(let id):
                key = [mailbox.rawValue, 1, id.rawValue]
            }
            guard pairs.insert(key).inserted else { continue }
            delegationList.append(Delegation(
                id: allocate(), mailbox: mailbox, delegate: delegate,
                permissions: permissionChoices[random.below(permissionChoices.count)],
                grantedBy: .user(superAdmin.id), grantedAt: now,
                expiresAt: random.below(10) == 0 ? now.addingTimeInterval(3600) : nil
            ))
        }
        return DirectoryContents(
            organization: Organization(name: "Bench", domains: [DomainName(Self.domain)!], createdAt: now),
            users: userList, groups: groupList, services: [], delegations: delegationList,
            policies: [EmailPolicy(name: EmailPolicy.defaultName, mailboxDelegationAllowed: true)],
            spamSettings: SpamSettings(), auditLog: [], superAdministrator: superAdmin.id,
            nextIdentity: nextID, revision: 0
        )
    }
}

/// A small deterministic generator (SplitMix64).
public struct BenchRandom: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}
