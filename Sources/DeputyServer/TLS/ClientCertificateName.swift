import NIOSSL
import SwiftASN1
import X509

/// The name a verified client certificate speaks for: its subject's common name.
///
/// A service account (a mail server on another host) may bind with the name alone when the
/// connection's certificate carries that name and was issued by an authority the daemon
/// was told to trust (`deputyd serve --client-ca`).
enum ClientCertificateName {
    /// The subject common name of `certificate`, or nil when it has none or cannot be read.
    static func of(_ certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        for relativeName in parsed.subject {
            for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                return String(attribute.value)
            }
        }
        return nil
    }
}
