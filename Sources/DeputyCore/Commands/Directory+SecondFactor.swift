import HashTreeCollections
import Foundation

extension Directory {
    // MARK: - Second factor

    /// A factor is enrolled by its own user only, and never over a confirmed one: removing
    /// that is a sensitive act of its own.
    mutating func enrollSecondFactor(_ address: EmailAddress, _ enrolment: FactorEnrolment, actor: Actor, time: Date) throws(DirectoryError) -> CommandResult {
        let target = try requireUser(address)
        try requireOwnFactor(target, actor: actor, action: "enrols")
        guard secondFactors[target.id]?.confirmed != true else {
            throw DirectoryError(.conflict, "\(target.address) has a confirmed second factor already; remove it first (MFA REMOVE)")
        }
        guard !enrolment.sealedSecret.isEmpty, enrolment.sealedSecret.utf8.count <= 256,
            enrolment.recoveryCodes.count <= 32,
            enrolment.recoveryCodes.allSatisfy({ $0.utf8.count == 64 && $0.utf8.allSatisfy { Self.isLowerHex($0) } })
        else { throw .invalid("a factor enrolment is a sealed secret and at most 32 SHA-256 hashes of recovery codes") }
        secondFactors[target.id] = SecondFactor(user: target.id, sealedSecret: enrolment.sealedSecret, enrolledAt: time, recoveryCodes: enrolment.recoveryCodes)
        return CommandResult(entity: target.id, summary: "second factor enrolled for \(target.address); confirm it with a code (MFA CONFIRM)")
    }

    mutating func confirmSecondFactor(_ address: EmailAddress, step: UInt64, actor: Actor) throws(DirectoryError) -> CommandResult {
        let target = try requireUser(address)
        try requireOwnFactor(target, actor: actor, action: "confirms")
        guard let factor = secondFactors[target.id] else { throw .notFound("\(target.address) has no second factor to confirm (MFA ENROLL first)") }
        guard !factor.confirmed else { throw DirectoryError(.conflict, "the second factor of \(target.address) is confirmed already") }
        secondFactors[target.id]!.confirmed = true
        secondFactors[target.id]!.lastUsedStep = step
        return CommandResult(entity: target.id, summary: "second factor confirmed for \(target.address)")
    }

    /// Replay protection lives here, in the single writer: of two sessions that present the
    /// same code at once, the second finds its step used.
    mutating func useSecondFactor(_ address: EmailAddress, _ proof: FactorProof, actor: Actor) throws(DirectoryError) -> CommandResult {
        let target = try requireUser(address)
        try requireOwnFactor(target, actor: actor, action: "proves")
        guard let factor = secondFactors[target.id], factor.confirmed else {
            throw .notFound("\(target.address) has no confirmed second factor")
        }
        switch proof {
        case .step(let step):
            if let last = factor.lastUsedStep, step <= last {
                throw .denied(.secondFactor, "that code was used already; wait for the next one")
            }
            secondFactors[target.id]!.lastUsedStep = step
            return CommandResult(entity: target.id, summary: "second factor of \(target.address) proved")
        case .recoveryCode(let hash):
            var found: Int?
            for (index, stored) in factor.recoveryCodes.enumerated() where ConstantTime.equal(Array(stored.utf8), Array(hash.utf8)) {
                found = index
            }
            guard let found else { throw .denied(.secondFactor, "not an unused recovery code of \(target.address)") }
            secondFactors[target.id]!.recoveryCodes.remove(at: found)
            let left = factor.recoveryCodes.count - 1
            return CommandResult(entity: target.id, summary: "recovery code used; \(left) left for \(target.address)")
        }
    }

    /// One's own factor, or another's from above in the order of authority (so the super
    /// administrator's only by itself); either way after proving one's own factor.
    mutating func removeSecondFactor(_ address: EmailAddress, actor: Actor, context: CommandContext) throws(DirectoryError) -> CommandResult {
        let target = try requireUser(address)
        try actor.requireAuthority(over: target, for: .resetSecondFactor)
        guard secondFactors[target.id] != nil else { throw .notFound("\(target.address) has no second factor") }
        try actor.requireFreshProof(context, rule: .secondFactor, action: "remove a second factor", passwordWindow: false)
        secondFactors[target.id] = nil
        return CommandResult(entity: target.id, summary: "second factor of \(target.address) removed")
    }

    private func requireOwnFactor(_ target: User, actor: Actor, action: String) throws(DirectoryError) {
        guard actor.userID == target.id else {
            throw .denied(.ownEntriesOnly, "only the user \(action) their own second factor")
        }
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}
