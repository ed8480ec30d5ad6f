import Crypto
import DeputyClient
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate and key made for one test run, shaped like the one `deputyd` generates: a
/// self-signed P-256 certificate for localhost and 127.0.0.1 that is also its own CA.
struct TestCertificate: Sendable {
    let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey
    let nioCertificate: NIOSSLCertificate
    let nioPrivateKey: NIOSSLPrivateKey
    let pem: String

    /// The SHA-256 of the DER encoding, computed here independently of ``Fingerprint``.
    let derSHA256: [UInt8]

    /// A self-signed certificate that is its own CA, valid from an hour ago for a day
    /// unless `validFor` (seconds from now) says otherwise.
    static func selfSigned(commonName: String = "Deputy Test Server", validFor: ClosedRange<TimeInterval> = -3_600 ... 86_400) throws -> TestCertificate {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Deputy Tests")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(Self.loopbackNames)
        }
        return try Self.make(subject: name, key: key, extensions: extensions, issuerName: name, issuerKey: key, validFor: validFor)
    }

    /// A CA certificate that signs ``issueServerCertificate()`` leaves.
    static func authority(commonName: String = "Deputy Test CA") throws -> TestCertificate {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Deputy Tests")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true))
        }
        return try Self.make(subject: name, key: key, extensions: extensions, issuerName: name, issuerKey: key)
    }

    /// A server leaf signed by this certificate, for localhost and 127.0.0.1 unless `names` says otherwise.
    func issueServerCertificate(names: [GeneralName] = Self.loopbackNames) throws -> TestCertificate {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Deputy Tests")
            CommonName("localhost")
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(names)
        }
        return try Self.make(
            subject: name,
            key: key,
            extensions: extensions,
            issuerName: self.certificate.subject,
            issuerKey: self.privateKey
        )
    }

    /// Writes the certificate's PEM into `directory` and returns the path.
    func writePEM(in directory: URL, name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(self.pem.utf8).write(to: url)
        return url.path
    }

    // MARK: - Building

    static let loopbackNames: [GeneralName] = [
        .dnsName("localhost"),
        .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
    ]

    private static func make(
        subject: DistinguishedName,
        key: P256.Signing.PrivateKey,
        extensions: Certificate.Extensions,
        issuerName: DistinguishedName,
        issuerKey: P256.Signing.PrivateKey,
        validFor: ClosedRange<TimeInterval> = -3_600 ... 86_400
    ) throws -> TestCertificate {
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(validFor.lowerBound),
            notValidAfter: now.addingTimeInterval(validFor.upperBound),
            issuer: issuerName,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(issuerKey)
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let der = serializer.serializedBytes
        let pem = try certificate.serializeAsPEM().pemString + "\n"
        return TestCertificate(
            certificate: certificate,
            privateKey: key,
            nioCertificate: try NIOSSLCertificate(bytes: der, format: .der),
            nioPrivateKey: try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem),
            pem: pem,
            derSHA256: Array(SHA256.hash(data: der))
        )
    }
}
