import Foundation

/// The client address as the login throttle counts it.
///
/// An IPv6 client usually holds a whole /64 network, so counting single IPv6 addresses would
/// give one attacker 2^64 fresh counters; they are counted by their /64 prefix instead.
public enum ClientSource {
    /// `192.0.2.7` stays as it is; `2001:db8:1:2:a:b:c:d` becomes `2001:db8:1:2::/64`.
    public static func key(_ address: String) -> String {
        guard address.contains(":") else { return address }
        var bytes = [UInt8](repeating: 0, count: 16)
        let parsed = address.withCString { text in
            bytes.withUnsafeMutableBytes { inet_pton(AF_INET6, text, $0.baseAddress) }
        }
        guard parsed == 1 else { return address }
        // An IPv4 client on a dual-stack socket keeps its own address.
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
