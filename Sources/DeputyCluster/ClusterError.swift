import PostgresNIO

/// Why the cluster could not do what was asked.
public struct ClusterError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// PostgreSQL is unreachable or refused the append: nothing was changed.
        case unavailable
        /// The append may or may not have been committed; it is resolved by its request id
        /// once PostgreSQL answers again.
        case indeterminate
        /// The log or a snapshot is not what this node expects (schema version, rules
        /// version, a broken chain it cannot repair).
        case incompatible
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// `error` as a cluster error: itself when it is one, else what PostgreSQL or the
    /// connection said, in its own words (postgres-nio's description of a refusal leaves
    /// the server's message out).
    public init(wrapping error: any Error) {
        if let error = error as? ClusterError {
            self = error
        } else {
            self.init(.unavailable, (error is PSQLError ? "PostgreSQL: " : "") + PrimaryConnector.describe(error))
        }
    }

    /// The refusal while more than one configured server answers as the primary.
    static func severalPrimaries(_ endpoints: [ClusterSettings.Endpoint]) -> ClusterError {
        let named = endpoints.isEmpty ? "" : " (\(endpoints.map(\.description).joined(separator: ", ")))"
        return ClusterError(.unavailable, severalPrimariesText + named + ": writes refused until one is fenced")
    }

    private static let severalPrimariesText = "more than one PostgreSQL server is a primary"

    /// Whether this is ``severalPrimaries(_:)``'s refusal.
    var isSeveralPrimaries: Bool { kind == .unavailable && description.hasPrefix(Self.severalPrimariesText) }
}
