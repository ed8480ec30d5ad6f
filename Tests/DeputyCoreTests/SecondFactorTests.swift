import DeputyCore
import Foundation
import Testing

/// TOTP (RFC 6238) and the directory's rules for second factors.
@Suite("Second factor")
struct SecondFactorTests {
    typealias T = TestDirectory

    static let rfcSecret = Array("12345678901234567890".utf8)

    // MARK: - TOTP

    @Test("RFC 6238 Appendix B: the SHA-1 test vectors", arguments: [
        (59.0, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ])
    func rfc6238Vectors(time: Double, expected: String) {
        let step = TOTP.step(at: Date(timeIntervalSince1970: time))
        #expect(TOTP.code(secret: Self.rfcSecret, step: step, digits: 8) == expected)
    }

    @Test("six-digit codes are the vectors' last six digits, with leading zeros kept")
    func sixDigits() {
        #expect(TOTP.code(secret: Self.rfcSecret, step: TOTP.step(at: Date(timeIntervalSince1970: 1_111_111_109))) == "081804")
        #expect(TOTP.code(secret: Self.rfcSecret, step: TOTP.step(at: Date(timeIntervalSince1970: 59))) == "287082")
    }

    @Test("a code matches within one step of drift either side, not two")
    func drift() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let step = TOTP.step(at: now)
        for offset: Int in -1...1 {
            let code = TOTP.code(secret: Self.rfcSecret, step: UInt64(Int(step) + offset))
            #expect(TOTP.match(code, secret: Self.rfcSecret, at: now, after: nil) == UInt64(Int(step) + offset))
        }
        for offset: Int in [-2, 2] {
            let code = TOTP.code(secret: Self.rfcSecret, step: UInt64(Int(step) + offset))
            #expect(TOTP.match(code, secret: Self.rfcSecret, at: now, after: nil) == nil)
        }
    }

    @Test("a step already used, or one before it, never matches again")
    func replay() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let step = TOTP.step(at: now)
        let code = TOTP.code(secret: Self.rfcSecret, step: step)
        #expect(TOTP.match(code, secret: Self.rfcSecret, at: now, after: step - 1) == step)
        #expect(TOTP.match(code, secret: Self.rfcSecret, at: now, after: step) == nil)
        let previous = TOTP.code(secret: Self.rfcSecret, step: step - 1)
        #expect(TOTP.match(previous, secret: Self.rfcSecret, at: now, after: step) == nil)
    }

    @Test("base32 as RFC 4648 gives it, and back")
    func base32() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.encode(Array("f".utf8)) == "MY")
        #expect(Base32.decode("mzxw6ytboi") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW6YTBOI======") == Array("foobar".utf8))
        #expect(Base32.decode("MZ1") == nil)
        #expect(Base32.decode(Base32.encode(Self.rfcSecret)) == Self.rfcSecret)
    }

    @Test("the otpauth URI names the issuer and account and carries the secret in base32")
    func uri() {
        let uri = TOTP.uri(secret: Self.rfcSecret, issuer: "Acme Inc", account: "alice@acme.test")
        #expect(uri == "otpauth://totp/Acme%20Inc:alice@acme.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Inc&algorithm=SHA1&digits=6&period=30")
    }

    @Test("a sealed secret opens only for its user, under its key")
    func sealing() throws {
        let box = try #require(FactorSecretBox(key: FactorSecretBox.makeKey()))
        let other = try #require(FactorSecretBox(key: FactorSecretBox.makeKey()))
        let sealed = box.seal(Self.rfcSecret, for: EntityID(7))
        #expect(box.open(sealed, for: EntityID(7)) == Self.rfcSecret)
        #expect(box.open(sealed, for: EntityID(8)) == nil)
        #expect(other.open(sealed, for: EntityID(7)) == nil)
        #expect(!sealed.contains(Base32.encode(Self.rfcSecret)))
        #expect(!sealed.contains("12345678901234567890"))
        #expect(FactorSecretBox(key: [1, 2, 3]) == nil)
        // Two seals of one secret differ (a fresh nonce each time).
        #expect(box.seal(Self.rfcSecret, for: EntityID(7)) != sealed)
    }

    @Test("recovery codes: the shape, and a hash that ignores case and dashes")
    func recoveryCodes() {
        var generator = SystemRandomNumberGenerator()
        let code = RecoveryCode.make(using: &generator)
        #expect(code.count == 19)
        #expect(RecoveryCode.isRecoveryCode(code))
        #expect(RecoveryCode.isRecoveryCode(code.uppercased().replacingOccurrences(of: "-", with: "")))
        #expect(!RecoveryCode.isRecoveryCode("123456"))
        #expect(RecoveryCode.hash(code) == RecoveryCode.hash(code.uppercased().replacingOccurrences(of: "-", with: "")))
        #expect(RecoveryCode.hash(code).count == 64)
        #expect(RecoveryCode.hash("abcd-efgh-ijkl-mnop") != RecoveryCode.hash("abcd-efgh-ijkl-mnoq"))
    }

    // MARK: - The directory's rules

    static let recovery = ["aaaa-bbbb-cccc-dddd", "eeee-ffff-gggg-hhhh"]

    static func enrolment(_ sealed: String = "c2VhbGVk") -> FactorEnrolment {
        FactorEnrolment(sealedSecret: sealed, recoveryCodes: recovery.map(RecoveryCode.hash))
    }

    /// Enrols and confirms a factor for `name` at step 100.
    static func withFactor(_ t: inout T, _ name: String) {
        t.expectApplied(.enrollSecondFactor(T.address(name), enrolment()), as: t.principal(name))
        t.expectApplied(.confirmSecondFactor(T.address(name), step: 100), as: t.principal(name))
    }

    @Test("the secrets a factor key does not open: those sealed under another key, or damaged")
    func secretsNotOpenedByAKey() throws {
        let key = try #require(FactorSecretBox(key: FactorSecretBox.makeKey()))
        let other = try #require(FactorSecretBox(key: FactorSecretBox.makeKey()))
        var t = T()
        #expect(t.directory.secondFactors(notOpenedBy: key) == (0, []))
        let alice = t.user("alice")!.id, bob = t.user("bob")!.id
        t.expectApplied(.enrollSecondFactor(T.address("alice"), Self.enrolment(key.seal([1, 2, 3], for: alice))), as: t.principal("alice"))
        #expect(t.directory.secondFactors(notOpenedBy: key) == (1, []))
        t.expectApplied(.enrollSecondFactor(T.address("bob"), Self.enrolment(other.seal([4, 5, 6], for: bob))), as: t.principal("bob"))
        #expect(t.directory.secondFactors(notOpenedBy: key) == (2, [bob]))
        #expect(t.directory.secondFactors(notOpenedBy: other) == (2, [alice]))
        // Sealed for another user: does not open for this one either.
        t.expectApplied(.enrollSecondFactor(T.address("bob"), Self.enrolment(key.seal([4, 5, 6], for: alice))), as: t.principal("bob"))
        #expect(t.directory.secondFactors(notOpenedBy: key) == (2, [bob]))
    }

    @Test("a factor is enrolled and confirmed by its own user only, and pending until confirmed")
    func enrolment() {
        var t = T()
        t.expectRefused(.enrollSecondFactor(T.address("alice"), Self.enrolment()), as: t.principal("admin"), code: .denied, rule: .ownEntriesOnly)
        t.expectRefused(.confirmSecondFactor(T.address("alice"), step: 1), as: t.principal("alice"), code: .notFound)
        t.expectApplied(.enrollSecondFactor(T.address("alice"), Self.enrolment()), as: t.principal("alice"))
        #expect(t.directory.secondFactor(of: t.user("alice")!.id)?.confirmed == false)
        // A pending factor is replaced by enrolling again.
        t.expectApplied(.enrollSecondFactor(T.address("alice"), Self.enrolment("b3RoZXI=")), as: t.principal("alice"))
        #expect(t.directory.secondFactor(of: t.user("alice")!.id)?.sealedSecret == "b3RoZXI=")
        t.expectRefused(.confirmSecondFactor(T.address("alice"), step: 5), as: t.principal("bob"), code: .denied, rule: .ownEntriesOnly)
        t.expectApplied(.confirmSecondFactor(T.address("alice"), step: 5), as: t.principal("alice"))
        #expect(t.directory.secondFactor(of: t.user("alice")!.id)?.confirmed == true)
        #expect(t.directory.secondFactor(of: t.user("alice")!.id)?.lastUsedStep == 5)
        // A confirmed factor is never replaced by a new enrolment.
        t.expectRefused(.enrollSecondFactor(T.address("alice"), Self.enrolment()), as: t.principal("alice"), code: .conflict)
        t.expectRefused(.confirmSecondFactor(T.address("alice"), step: 6), as: t.principal("alice"), code: .conflict)
        // An enrolment that is not a sealed secret and hashes is refused.
        t.expectRefused(
            .enrollSecondFactor(T.address("bob"), FactorEnrolment(sealedSecret: "x", recoveryCodes: ["aaaa-bbbb-cccc-dddd"])),
            as: t.principal("bob"), code: .invalid
        )
    }

    @Test("a step is used once: the same or an earlier one is refused; a recovery code is used up")
    func useOnce() {
        var t = T()
        Self.withFactor(&t, "alice")
        t.expectRefused(.useSecondFactor(T.address("alice"), .step(100)), as: t.principal("alice"), code: .denied, rule: .secondFactor)
        t.expectApplied(.useSecondFactor(T.address("alice"), .step(101)), as: t.principal("alice"))
        t.expectRefused(.useSecondFactor(T.address("alice"), .step(101)), as: t.principal("alice"), code: .denied, rule: .secondFactor)
        t.expectRefused(.useSecondFactor(T.address("alice"), .step(99)), as: t.principal("alice"), code: .denied, rule: .secondFactor)
        let hash = RecoveryCode.hash(Self.recovery[0])
        t.expectApplied(.useSecondFactor(T.address("alice"), .recoveryCode(hash)), as: t.principal("alice"))
        #expect(t.directory.secondFactor(of: t.user("alice")!.id)?.recoveryCodes == [RecoveryCode.hash(Self.recovery[1])])
        t.expectRefused(.useSecondFactor(T.address("alice"), .recoveryCode(hash)), as: t.principal("alice"), code: .denied, rule: .secondFactor)
        // Nobody proves another user's factor, and a user without one proves nothing.
        t.expectRefused(.useSecondFactor(T.address("alice"), .step(200)), as: t.principal("admin"), code: .denied, rule: .ownEntriesOnly)
        t.expectRefused(.useSecondFactor(T.address("bob"), .step(200)), as: t.principal("bob"), code: .notFound)
    }

    @Test("the super administrator transfer: a password alone is refused for an account with a factor, the factor's window allows it")
    func transferNeedsFactor() {
        var t = T()
        Self.withFactor(&t, "boss")
        t.expectRefused(.setRole(T.address("admin"), .superAdministrator), as: t.principal("boss"), code: .reauthenticationRequired, rule: .secondFactor, reauthenticatedAt: t.now)
        // A factor proved longer ago than the window is not enough either.
        t.expectRefused(
            .setRole(T.address("admin"), .superAdministrator), as: t.principal("boss"), code: .reauthenticationRequired, rule: .secondFactor,
            reauthenticatedAt: t.now, factorVerifiedAt: t.now.addingTimeInterval(-301)
        )
        t.expectApplied(.setRole(T.address("admin"), .superAdministrator), as: t.principal("boss"), reauthenticatedAt: t.now, factorVerifiedAt: t.now)
        #expect(t.user("admin")?.role == .superAdministrator)
    }

    @Test("without a factor the transfer still needs the password window, as before")
    func transferWithoutFactor() {
        var t = T()
        t.expectRefused(.setRole(T.address("admin"), .superAdministrator), as: t.principal("boss"), code: .reauthenticationRequired, rule: .superAdministratorTransfer)
        t.expectApplied(.setRole(T.address("admin"), .superAdministrator), as: t.principal("boss"), reauthenticatedAt: t.now)
    }

    @Test("granting admin and renaming the organisation need the factor's window where the actor has a factor")
    func otherSensitiveActs() {
        var t = T()
        // Without a factor nothing changes.
        t.expectApplied(.setRole(T.address("alice"), .administrator), as: t.principal("boss"))
        Self.withFactor(&t, "boss")
        t.expectRefused(.setRole(T.address("bob"), .administrator), as: t.principal("boss"), code: .reauthenticationRequired, rule: .secondFactor, reauthenticatedAt: t.now)
        t.expectApplied(.setRole(T.address("bob"), .administrator), as: t.principal("boss"), factorVerifiedAt: t.now)
        // Taking admin away is not one of the sensitive acts.
        t.expectApplied(.setRole(T.address("bob"), .user), as: t.principal("boss"))
        t.expectRefused(.modifyOrganization(OrganizationChanges(name: "Acme Two")), as: t.principal("boss"), code: .reauthenticationRequired, rule: .secondFactor)
        t.expectApplied(.modifyOrganization(OrganizationChanges(name: "Acme Two")), as: t.principal("boss"), factorVerifiedAt: t.now)
        #expect(t.directory.organization?.name == "Acme Two")
        // Other settings don't need it.
        t.expectApplied(.modifyOrganization(OrganizationChanges(personalGroups: .administrators)), as: t.principal("boss"))
    }

    @Test("resetting a factor: from above in the order of authority, after one's own factor; the super administrator's only by itself")
    func reset() {
        var t = T()
        Self.withFactor(&t, "alice")
        Self.withFactor(&t, "boss")
        t.expectRefused(.removeSecondFactor(T.address("alice")), as: t.principal("bob"), code: .denied, rule: .administratorsManage)
        t.expectRefused(.removeSecondFactor(T.address("boss")), as: t.principal("admin"), code: .denied, rule: .protectedSuperAdministrator)
        t.expectRefused(.removeSecondFactor(T.address("bob")), as: t.principal("admin"), code: .notFound)
        // The administrator has no factor: its authority suffices.
        t.expectApplied(.removeSecondFactor(T.address("alice")), as: t.principal("admin"))
        #expect(t.directory.secondFactor(of: t.user("alice")!.id) == nil)
        #expect(t.directory.auditLog[t.directory.auditLog.lastSequence]?.action == "remove-second-factor")
        // The super administrator removes its own only with a fresh proof of it.
        t.expectRefused(.removeSecondFactor(T.address("boss")), as: t.principal("boss"), code: .reauthenticationRequired, rule: .secondFactor, reauthenticatedAt: t.now)
        t.expectApplied(.removeSecondFactor(T.address("boss")), as: t.principal("boss"), factorVerifiedAt: t.now)
        // A user removes their own pending factor without one.
        t.expectApplied(.enrollSecondFactor(T.address("carol"), Self.enrolment()), as: t.principal("carol"))
        t.expectApplied(.removeSecondFactor(T.address("carol")), as: t.principal("carol"))
    }

    @Test("where the organisation requires a factor, administrators and custom administrators act only once enrolled")
    func organisationRequirement() {
        var t = T()
        // Only the super administrator sets it, and only with a factor of its own.
        t.expectRefused(.modifyOrganization(OrganizationChanges(requireAdministratorFactor: true)), as: t.principal("admin"), code: .denied, rule: .secondFactor)
        t.expectRefused(.modifyOrganization(OrganizationChanges(requireAdministratorFactor: true)), as: t.principal("boss"), code: .denied, rule: .secondFactor)
        Self.withFactor(&t, "boss")
        t.expectRefused(.modifyOrganization(OrganizationChanges(requireAdministratorFactor: true)), as: t.principal("boss"), code: .reauthenticationRequired, rule: .secondFactor)
        t.expectApplied(.modifyOrganization(OrganizationChanges(requireAdministratorFactor: true)), as: t.principal("boss"), factorVerifiedAt: t.now)
        #expect(t.directory.organization?.requireAdministratorFactor == true)

        let newUser = Command.addUser(NewUser(address: T.address("dave"), displayName: "Dave", passwordHash: T.hash))
        t.expectRefused(newUser, as: t.principal("admin"), code: .denied, rule: .secondFactor)
        t.expectRefused(.modifyUser(T.address("alice"), UserChanges(recoveryAddress: .set(T.address("bob")))), as: t.principal("helper"), code: .denied, rule: .secondFactor)
        // A user is not an administrator: nothing changes for them.
        t.expectApplied(.modifyUser(T.address("alice"), UserChanges(displayName: "Alice L")), as: t.principal("alice"))
        // Enrolling is what an administrator without a factor may do, and then acts again.
        Self.withFactor(&t, "admin")
        t.expectApplied(newUser, as: t.principal("admin"))
        Self.withFactor(&t, "helper")
        t.expectApplied(.modifyUser(T.address("alice"), UserChanges(recoveryAddress: .set(T.address("bob")))), as: t.principal("helper"))
    }

    @Test("deleting a user deletes its factor; factors survive the contents' round trip")
    func contents() throws {
        var t = T()
        Self.withFactor(&t, "alice")
        Self.withFactor(&t, "bob")
        let rebuilt = try Directory(contents: t.directory.contents)
        #expect(rebuilt.secondFactor(of: t.user("bob")!.id) == t.directory.secondFactor(of: t.user("bob")!.id))
        #expect(rebuilt.contents == t.directory.contents)
        t.expectApplied(.deleteUser(T.address("alice")), as: t.principal("admin"))
        #expect(t.directory.secondFactors.count == 1)
        #expect(t.directory.integrityProblems().isEmpty)
        // A directory without factors writes none: documents from before factors read the same.
        #expect(T().directory.contents.secondFactors == nil)
    }
}
