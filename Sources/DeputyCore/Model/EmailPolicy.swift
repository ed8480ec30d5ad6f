/// A named email policy, assigned to users or groups, with an organisation default.
public struct EmailPolicy: Hashable, Codable, Sendable {
    /// The name of the policy every organisation starts with.
    public static let defaultName = "default"

    /// The policy's name.
    public let name: String
    /// Whether users under this policy may delegate their own mailbox.
    public var mailboxDelegationAllowed: Bool

    /// Creates a policy.
    public init(name: String, mailboxDelegationAllowed: Bool) {
        self.name = name
        self.mailboxDelegationAllowed = mailboxDelegationAllowed
    }

    /// Whether `text` is usable as a policy name: 1 to 64 letters, digits, `-`, `_` or `.`.
    public static func isValidName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
            }
    }
}
