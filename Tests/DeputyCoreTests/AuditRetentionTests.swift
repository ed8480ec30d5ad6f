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

    /// The super administrator sets a retention, with a fresh proof (the password within
    /// the last five minutes), as a shorter one drops records at once.
    private static func setRetention(_ days: Int, in test: inout TestDirectory) {
        test.expectApplied(.modifyOrganization(OrganizationChanges(auditRetentionDays: days)), as: test.principal("boss"), reauthenticatedAt: test.now)
    }

    @Test func recordsOlderThanTheRetentionGoInWholeChunks() {
        var test = TestDirectory()
        Self.setRetention(30, in: &test)
        #expect(test.directory.organization?.auditRetentionDays == 30)
        Self.failedLogins(2 * AuditChunk.capacity - test.directory.auditLog.count, in: &test)
        #expect(test.directory.auditLog.count == 2 * AuditChunk.capacity)

        // 31 days on, a chunk fills; while the newest full chunk is the start's, nothing goes.
        test.now = TestDirectory.start.addingTimeInterval(31 * Self.day)
        Self.failedLogins(AuditChunk.capacity, in: &test)
        #expect(test.directory.auditLog.firstSequence == 1)

        // The next record seals it: its oldest record is 31 days on, and the two chunks of
        // the start, older than 30 days before that, go.
        Self.failedLogins(1, in: &test)
        let log = test.directory.auditLog
        #expect(log.firstSequence == UInt64(2 * AuditChunk.capacity + 1))
        #expect(log.count == AuditChunk.capacity + 1)
        #expect(log.lastSequence == UInt64(3 * AuditChunk.capacity + 1))
        #expect(log[1] == nil)
        #expect(log[UInt64(2 * AuditChunk.capacity)] == nil)
        #expect(log[UInt64(2 * AuditChunk.capacity + 1)]?.time == test.now)
        #expect(log.search(AuditFilter(), limit: 1_000).count == AuditChunk.capacity + 1)
        #expect(log.search(AuditFilter(afterSequence: 5), limit: 1_000).count == AuditChunk.capacity + 1)
        #expect(log.search(AuditFilter(beforeSequence: 50), limit: 1_000).isEmpty)
    }

    /// One change stamped by a clock far ahead (a node's clock stepped wrongly) expires
    /// nothing: the log's present is the oldest record of its newest full chunk where that
    /// is earlier than the change.
    @Test func oneChangeFromAClockFarAheadExpiresNothing() {
        var test = TestDirectory()
        Self.setRetention(30, in: &test)
        Self.failedLogins(2 * AuditChunk.capacity + 100, in: &test)
        test.now = TestDirectory.start.addingTimeInterval(3_650 * Self.day)
        Self.failedLogins(1, in: &test)
        test.now = TestDirectory.start
        Self.failedLogins(1, in: &test)
        #expect(test.directory.auditLog.firstSequence == 1)
        // A whole chunk from that clock does move it.
        test.now = TestDirectory.start.addingTimeInterval(3_650 * Self.day)
        Self.failedLogins(2 * AuditChunk.capacity, in: &test)
        #expect(test.directory.auditLog.firstSequence ?? 0 > 1)
    }

    @Test func withoutARetentionEveryRecordStays() {
        var test = TestDirectory()
        for chunk in 0..<3 {
            test.now = TestDirectory.start.addingTimeInterval(Double(chunk) * 1_000 * Self.day)
            Self.failedLogins(AuditChunk.capacity, in: &test)
        }
        #expect(test.directory.auditLog.firstSequence == 1)

        // One day: the chunks more than a day older than the newest full chunk go.
        Self.setRetention(1, in: &test)
        #expect(test.directory.auditLog.firstSequence == UInt64(AuditChunk.capacity + 1))
        // And back to keeping every record with 0: nothing goes after that.
        Self.setRetention(0, in: &test)
        #expect(test.directory.organization?.auditRetentionDays == nil)
        let kept = test.directory.auditLog.count
        test.now = test.now.addingTimeInterval(1_000 * Self.day)
        Self.failedLogins(2 * AuditChunk.capacity, in: &test)
        #expect(test.directory.auditLog.count == kept + 2 * AuditChunk.capacity)
    }

    /// A directory restored from a snapshot drops the same records later as the one that
    /// applied every command: what goes depends on the records and the commands only.
    @Test func aRestoredDirectoryDropsTheSameRecords() throws {
        var test = TestDirectory()
        Self.setRetention(2, in: &test)
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
        // Nothing within the retention went: the failed logins of days 7, 8 and 9 are all
        // there, and the oldest chunk held has one within two days of the newest full
        // chunk's oldest record (day 8).
        let dayNine = TestDirectory.start.addingTimeInterval(9 * Self.day)
        #expect(test.now == dayNine)
        #expect(test.directory.auditLog.all.filter { $0.time >= dayNine.addingTimeInterval(-2 * Self.day) }.count == 900)
        #expect(test.directory.auditLog.all.prefix(AuditChunk.capacity).contains { $0.time >= dayNine.addingTimeInterval(-3 * Self.day) })
        #expect(!test.directory.auditLog.all.contains { $0.time < dayNine.addingTimeInterval(-5 * Self.day) })
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
        // Without a fresh proof: a session's old password, or a stolen session, is not enough.
        test.expectRefused(
            .modifyOrganization(OrganizationChanges(auditRetentionDays: 1)), as: test.principal("boss"), code: .reauthenticationRequired,
            rule: .auditRetentionBySuperAdministrator
        )
        test.expectRefused(
            .modifyOrganization(OrganizationChanges(auditRetentionDays: Organization.longestAuditRetentionDays + 1)),
            as: test.principal("boss"), code: .invalid, reauthenticatedAt: test.now
        )
        test.expectRefused(
            .modifyOrganization(OrganizationChanges(auditRetentionDays: -1)), as: test.principal("boss"), code: .invalid, reauthenticatedAt: test.now
        )
        Self.setRetention(Organization.longestAuditRetentionDays, in: &test)
        let record = test.directory.auditLog[test.directory.auditLog.lastSequence]
        #expect(record?.action == "modify-organization")
        #expect(record?.detail == "auditdays=\(Organization.longestAuditRetentionDays)")
    }

    @Test func anOrganizationWithoutItEncodesAsBefore() throws {
        var test = TestDirectory()
        let before = try JSONEncoder().encode(test.directory.organization)
        #expect(!String(decoding: before, as: UTF8.self).contains("auditRetentionDays"))
        Self.setRetention(90, in: &test)
        let after = try JSONEncoder().encode(test.directory.organization)
        #expect(try JSONDecoder().decode(Organization.self, from: after).auditRetentionDays == 90)
        #expect(try JSONDecoder().decode(Organization.self, from: before).auditRetentionDays == nil)
    }
}
