/// What Dovecot's checkpassword interface hands the program: the login and password on file
/// descriptor 3, and the client's side of the connection in the environment.
///
/// Dovecot writes `user\0password\0timestamp\0` to descriptor 3 (at most 512 bytes) and
/// sets `SERVICE` (`imap`, `pop3`, ...), `TCPREMOTEIP` and `TCPLOCALIP`. A lookup without a
/// password (`AUTHORIZED=1`) asks only whether the user exists.
public struct CheckpasswordRequest: Equatable, Sendable {
    /// The login as the client typed it.
    public var login: String
    /// The password; `nil` for a lookup.
    public var password: String?
    /// The protocol the client logs in to.
    public var service: String
    /// The client's address, where Dovecot knows it.
    public var remoteAddress: String?
    /// The address the client connected to.
    public var localAddress: String?

    /// Parses descriptor 3's bytes and the environment; `nil` when the bytes are not
    /// `user\0password\0...` with a non-empty user.
    public init?(input: [UInt8], environment: [String: String]) {
        let fields = input.split(separator: 0, omittingEmptySubsequences: false)
        guard fields.count >= 2, !fields[0].isEmpty, fields[0].count <= 256 else { return nil }
        login = String(decoding: fields[0], as: UTF8.self)
        let isLookup = environment["AUTHORIZED"] == "1"
        password = isLookup ? nil : String(decoding: fields[1], as: UTF8.self)
        service = environment["SERVICE"].flatMap { $0.isEmpty ? nil : $0 } ?? "imap"
        remoteAddress = environment["TCPREMOTEIP"].flatMap { $0.isEmpty ? nil : $0 }
        localAddress = environment["TCPLOCALIP"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
