@testable import DeputyCore
import Foundation
import Testing

/// U+2028 and U+2029 end a line for some clients, and the protocol's escapes have no form
/// for them, so no text that replies carry may hold one: names refuse them, and a login
/// attempt's texts replace them, as they do control characters (U+0085 among them).
struct LineSeparatorTests {
    @Test func namesRefuseLineAndParagraphSeparators() {
        var test = TestDirectory()
        for name in ["Eve\u{2028}OK forged", "Eve\u{2029}", "Eve\u{85}x"] {
            test.expectRefused(
                .addUser(NewUser(address: TestDirectory.address("eve"), displayName: name, passwordHash: TestDirectory.hash)),
                as: test.principal("admin"), code: .invalid
            )
            test.expectRefused(.modifyOrganization(OrganizationChanges(name: name)), as: test.principal("boss"), code: .invalid)
            test.expectRefused(
                .addGroup(NewGroup(address: TestDirectory.address("team"), name: name, kind: .organization)), as: test.principal("admin"),
                code: .invalid
            )
        }
        test.expectApplied(
            .addUser(NewUser(address: TestDirectory.address("eve"), displayName: "Ève Þórsdóttir 李", passwordHash: TestDirectory.hash)),
            as: test.principal("admin")
        )
    }

    @Test func loginAttemptsReplaceThem() {
        let attempt = LoginAttempt(login: "a\u{2028}b\u{2029}c\u{85}d\ne", source: "192.0.2.1\u{2028}", via: "bind")
        #expect(attempt.login == "a?b?c?d?e")
        #expect(attempt.source == "192.0.2.1?")
    }
}
