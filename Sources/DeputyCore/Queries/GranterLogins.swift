/// The logins of the principals who granted delegations, as ``Directory/forEachDelegate(of:at:includeInactive:granters:_:)``
/// names them: remembered by its caller for as long as it answers from one version of the
/// directory, since most of an organisation's delegations were granted by one or two
/// administrators.
///
/// Finding a login reads the granter's whole user out of the directory's map, counting a
/// reference on each of its strings and arrays, memory that every thread answering shares;
/// a login remembered here is a string of the caller's own.
public struct GranterLogins: Sendable {
    private var entries: [(granter: Principal, login: String)] = []

    /// None remembered.
    public init() {}

    /// Forgets every login: for another version of the directory, where one may have changed.
    public mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
    }

    /// The login of `granter`, remembered or else read from `directory` and remembered.
    mutating func login(of granter: Principal, in directory: Directory) -> String {
        if let known = entries.first(where: { $0.granter == granter }) { return known.login }
        // A copy of the directory's string, so that using it counts nothing shared.
        let login = String(decoding: directory.loginName(of: granter).utf8, as: UTF8.self)
        // A few: a caller that meets many granters reads the rest each time.
        if entries.count < 8 { entries.append((granter, login)) }
        return login
    }
}
