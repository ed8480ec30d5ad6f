@testable import DeputyCore
import Foundation
import Testing

/// The organisation's audit retention: the super administrator's to set, and the same
/// records dropped by every directory that applies the same commands.
struct AuditRetentionTests {
    private static func failedLogins(_ count: Int, in test: inout TestDirectory) {
        for i in 0..<count {
            test.expectApplied(.recordLoginFailure(LoginAttempt(login: "guess\(i)@acme.test", source: "192.0.2.7", via: "bind")), as: .system)
        }
    }

    private static let day: TimeInterval = 86_400

    @Test func recordsOlderThanTheRetentionGoInWholeChunks() {
        var test = TestDirectory()
        test.expectApplied(.modifyOrganization(OrganizationChanges(auditRetentionDays: 30)), as: test.principal("boss"))
        #expect(test.directory.organization?.auditRetentionDays == 30)
        let setUp = test.directory.auditLog.count
        Self.failedLogins(2 * AuditChunk.capacity + 100 - setUp, in: &test)
        #expect(test.directory.auditLog.count == 2 * AuditChunk.capacity + 100)

        // 29 days on, nothing has expired yet.
        test.now = TestDirectory.start.addingTimeInterval(29 * Self.day)
        Self.failedLogins(1, in: &test)
        #expect(test.directory.auditLog.firstSequence == 1)

        // 31 days on, the two full chunks of older records go; the chunk being filled stays,
        // old records and all.
        test.now = TestDirectory.start.addingTimeInterval(31 * Self.day)
        Self.failedLogins(1, in: &test)
        let log = test.directory.auditLog
        #expect(log.firstSequence == UInt64(2 * AuditChunk.capacity + 1))
        #expect(log.count == 100 + 2)
        #expect(log.lastSequence == UInt64(2 * AuditChunk.capacity + 102))
        #expect(log[1] == nil)
        #expect(log[UInt64(2 * AuditChunk.capacity)] == nil)
        #expect(log[UInt64(2 * AuditChunk.capacity + 1)]?.target == "guess\(2 * AuditChunk.capacity - setUp)@acme.test")
        #expect(log.search(AuditFilter(), limit: 1_000).count == 102)
        #expect(log.search(AuditFilter(afterSequence: 5), limit: 1_000).count == 102)
        #expect(log.search(AuditFilter(beforeSequence: 50), limit: 1_000).isEmpty)
    }

    @Test func withoutARetentionEveryRecordStays() {
        var test = TestDirectory()
        Self.failedLogins(AuditChunk.capacity + 10, in: &test)
        test.now = TestDirectory.start.addingTimeInterval(10_000 * Self.day)
        Self.failedLogins(1, in: &test)
        #expect(test.directory.auditLog.firstSequence == 1)

        // Set, then back to keeping every record with 0: nothing goes after that either.
        test.expectApplied(.modifyOrganization(OrganizationChanges(auditRetentionDays: 1)), as: test.principal("boss"))
        #expect(test.directory.auditLog.firstSequence == UInt64(AuditChunk.capacity + 1))
        test.expectApplied(.modifyOrganization(OrganizationChanges(auditRetentionDays: 0)), as: test.principal("boss"))
        #expect(test.directory.organization?.auditRetentionDays == nil)
        let kept = test.directory.auditLog.count
        Self.failedLogins(AuditChunk.capacity, in: &test)
        test.now = test.now.addingTimeInterval(100 * Self.day)
        Self.failedLogins(1, in: &test)
        #expect(test.directory.auditLog.count == kept + AuditChunk.capacity + 1)
    }

    /// A directory restored from a snapshot drops the same records later as the one that
    /// applied every command: what goes depends on the records and the commands only.
    @Test func aRestoredDirectoryDropsTheSameRecords() throws {
        var test = TestDirectory()
        test.expectApplied(.modifyOrganization(OrganizationChanges(auditRetentionDays: 2)), as: test.principal("boss"))
        for day in 0..<6 {
            test.now = TestDirectory.start.addingTimeInterval(Double(day) * Self.day)
            Self.failedLogins(400, in: &test)
        }
        var restored = test
        restored.directory = try Directory(contents: test.directory.contents)
        #expect(restored.directory.auditLog.all == test.directory.auditLog.all)
        for day in 6..<10 {
            for copy in [0, 1] {
                var each = copy == 0 ? test : restored
                each.now = TestDirectory.start.addingTimeInterval(Double(day) * Self.day)
                Self.failedLogins(300, in: &each)
                if copy == 0 { test = each } else { restored = each }
            }
            #expect(restored.directory.auditLog.all == test.directory.auditLog.all)
        }
        let oldest = try #require(test.directory.auditLog.all.first)
        #expect(oldest.sequence > 1)
        // Nothing within the retention went (the failed logins of days 7, 8 and 9), and the
        // oldest chunk held has a record within it.
        let cutoff = test.now.addingTimeInterval(-2 * Self.day)
        #expect(test.directory.auditLog.all.filter { $0.time >= cutoff }.count == 900)
        #expect(test.directory.auditLog.all.prefix(AuditChunk.capacity).contains { $0.time >= cutoff })
    }

    @Test func onlyTheSuperAdministratorSetsItWithinItsBounds() {
        var test = TestDirectory()
        test.expectRefused(
            .modifyOrganization(OrganizationChanges(auditRetentionDays: 1)), as: test.principal("admin"), code: .denied,
            rule: .auditRetentionBySuperAdministrator
        )
        test.expectRefused(
            .modifyOrganization(OrganizationChanges(auditRetentionDays: 1)), as: test.principal("helper"), code: .denied,
            rule: .auditRetentionBySuperAdministrator
        )
        test.expectRefused(
            .modifyOrganization(OrganizationChanges(auditRetentionDays: Organization.longestAuditRetentionDays + 1)),
            as: test.principal("boss"), code: .invalid
        )
        test.expectRefused(.modifyOrganization(OrganizationChanges(auditRetentionDays: -1)), as: test.principal("boss"), code: .invalid)
        test.expectApplied(
            .modifyOrganization(OrganizationChanges(auditRetentionDays: Organization.longestAuditRetentionDays)), as: test.principal("boss")
        )
        let record = test.directory.auditLog[test.directory.auditLog.lastSequence]
        #expect(record?.action == "modify-organization")
        #expect(record?.detail == "auditdays=\(Organization.longestAuditRetentionDays)")
    }

    @Test func anOrganizationWithoutItEncodesAsBefore() throws {
        var test = TestDirectory()
        let before = try JSONEncoder().encode(test.directory.organization)
        #expect(!String(decoding: before, as: UTF8.self).contains("auditRetentionDays"))
        test.expectApplied(.modifyOrganization(OrganizationChanges(auditRetentionDays: 90)), as: test.principal("boss"))
        let after = try JSONEncoder().encode(test.directory.organization)
        #expect(try JSONDecoder().decode(Organization.self, from: after).auditRetentionDays == 90)
        #expect(try JSONDecoder().decode(Organization.self, from: before).auditRetentionDays == nil)
    }
}
