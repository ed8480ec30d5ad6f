import DeputyServer
import Foundation

/// What a Dovecot auth server tells each client about itself in the handshake: its process
/// and a cookie. Postfix ignores both, but Dovecot's own clients expect them.
struct DovecotAuthServerIdentity: Sendable {
    /// The daemon's process id.
    let processID: Int32
    /// 32 hex digits, random per server.
    let cookie: String

    init() {
        processID = ProcessInfo.processInfo.processIdentifier
        var generator = SystemRandomNumberGenerator()
        cookie = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}
