import DeputyCore
import DeputyProtocol
import Foundation

extension Session {
    /// `MFA ENROLL`, `CONFIRM` and `REMOVE`: the secret is made, sealed and checked here,
    /// where the factor key is; the directory decides who may and keeps the sealed secret.
    mutating func secondFactor(_ request: Request.MFA) async -> Reply {
        let directory = environment.committer.live.directory
        let own: User? = if case .user(let id)? = principal { directory.user(id: id) } else { nil }
        switch request {
        case .enroll:
            guard let user = own else { return Self.usersOnly }
            return await enroll(user)
        case .confirm(let code):
            guard let user = own else { return Self.usersOnly }
            guard let factor = directory.secondFactor(of: user.id), !factor.confirmed else {
                // Nothing pending to check the code against: the directory says why, and
                // audits the attempt.
                return await submit(.confirmSecondFactor(user.address, step: 0))
            }
            guard let secret = environment.factorBox.open(factor.sealedSecret, for: user.id) else {
                // Sealed under another factor key (a restore without the key): it can never
                // be checked, so it is never confirmed.
                return Reply(status: .error(code: .conflict, text: "the pending second factor can't be read with this daemon's factor key; enrol again (MFA ENROLL)"))
            }
            guard let step = TOTP.match(code, secret: secret, at: environment.clock(), after: nil) else {
                return Reply(status: .error(code: .invalid, text: "the code does not match; check that the authenticator's clock is right and try the next code"))
            }
            return await submit(.confirmSecondFactor(user.address, step: step))
        case .remove(let login):
            guard let address = login ?? own?.address else { return Self.usersOnly }
            return await submit(.removeSecondFactor(address))
        case .status:
            return Reply(status: .error(code: .internal, text: "MFA STATUS needs no waiting"))
        }
    }

    private static let usersOnly = Reply(status: .error(code: .denied, text: "[\(Rule.ownEntriesOnly.rawValue)] only users have a second factor"))

    /// A new secret and recovery codes, committed sealed and hashed; the reply is the only
    /// place either is ever shown in clear.
    private mutating func enroll(_ user: User) async -> Reply {
        let secret = environment.randomBytes(TOTP.secretLength)
        var generator = ByteSourceGenerator(bytes: environment.randomBytes)
        let codes = (0..<RecoveryCode.count).map { _ in RecoveryCode.make(using: &generator) }
        let enrolment = FactorEnrolment(sealedSecret: environment.factorBox.seal(secret, for: user.id), recoveryCodes: codes.map(RecoveryCode.hash))
        let reply = await submit(.enrollSecondFactor(user.address, enrolment))
        guard reply.status.isOK else { return reply }
        let issuer = environment.committer.live.directory.organization?.name ?? "Deputy"
        var first = ReplyRecord()
        first.append(key: "secret", value: Base32.encode(secret))
        first.append(key: "uri", value: TOTP.uri(secret: secret, issuer: issuer, account: user.address.value))
        var records = [first]
        for code in codes {
            var record = ReplyRecord()
            record.append(key: "recovery", value: code)
            records.append(record)
        }
        return Reply(records: records, status: reply.status)
    }

    /// `MFA STATUS [login]`: a query, answered from the current version.
    mutating func secondFactorStatus(login: String?) -> Reply {
        guard let principal else { return Reply(status: .error(code: .auth, text: "BIND first")) }
        guard let target = login ?? self.login else { return Self.usersOnly }
        let view = currentView(of: principal)
        let directory = view.version.directory
        do {
            try view.authorization.get().authorize(.secondFactor(user: target), in: directory)
        } catch {
            return Self.reply(for: error)
        }
        guard let address = EmailAddress(target), case .user(let id)? = directory.owner(of: address), let user = directory.user(id: id) else {
            return Reply(status: .error(code: .notfound, text: "no user has the login \(target.prefix(254))"))
        }
        let factor = directory.secondFactor(of: user.id)
        var record = ReplyRecord()
        record.append(key: "login", value: user.address.value)
        record.append(key: "factor", value: factor.map { $0.confirmed ? "confirmed" : "pending" } ?? "none")
        record.append(key: "recovery", value: String(factor?.recoveryCodes.count ?? 0))
        let required = (directory.organization?.requireAdministratorFactor ?? false) && user.authorityLevel >= .customAdministrator
        record.append(key: "required", value: required ? "yes" : "no")
        return Reply(records: [record], status: .ok(text: nil))
    }

    /// The second step of `REAUTH` for an account with a confirmed factor: a code of a step
    /// not used yet, or an unused recovery code, recorded through the single writer, which
    /// refuses a step another session used first.
    static func proveFactor(_ code: String, user: EntityID, environment: SessionEnvironment, now: Date) async -> Bool {
        let directory = environment.committer.live.directory
        guard let user = directory.user(id: user), let factor = directory.secondFactor(of: user.id), factor.confirmed else { return false }
        let proof: FactorProof
        if TOTP.isCode(code) {
            guard let secret = environment.factorBox.open(factor.sealedSecret, for: user.id),
                let step = TOTP.match(code, secret: secret, at: now, after: factor.lastUsedStep)
            else { return false }
            proof = .step(step)
        } else if RecoveryCode.isRecoveryCode(code) {
            proof = .recoveryCode(RecoveryCode.hash(code))
        } else {
            return false
        }
        guard let committed = try? await environment.committer.commit(.useSecondFactor(user.address, proof), context: CommandContext(actor: .user(user.id), time: now)),
            case .success = committed.result
        else { return false }
        return true
    }
}

/// A random number generator drawing on a source of random bytes.
struct ByteSourceGenerator: RandomNumberGenerator {
    let bytes: @Sendable (Int) -> [UInt8]

    mutating func next() -> UInt64 {
        bytes(8).reduce(0) { ($0 << 8) | UInt64($1) }
    }
}

/// Where new secrets and recovery codes come from.
public enum FactorRandomness {
    /// The system's cryptographically secure generator.
    public static let system: @Sendable (Int) -> [UInt8] = { count in
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
