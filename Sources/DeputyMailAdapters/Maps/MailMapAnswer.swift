/// The answer of a ``MailMap`` for one key.
public enum MailMapAnswer: Hashable, Sendable {
    /// The values, in a stable order; never empty.
    case found([String])
    /// Nothing for this key.
    case notFound

    /// The values joined with commas, as every Postfix table expects; `nil` when not found.
    public var value: String? {
        if case .found(let values) = self { return values.joined(separator: ",") }
        return nil
    }
}
