import Crypto
import DeputyStore
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The daemon's TLS certificate and key: read from PEM files, or generated on first start.
public struct ServerCertificate: Sendable {
    /// The certificate chain, leaf first.
    public let chain: [NIOSSLCertificate]
    /// The private key.
    public let key: NIOSSLPrivateKey
    /// The SHA-256 fingerprint of the leaf, as `sha256:AB:CD:...`, for clients to pin.
    public let fingerprint: String

    /// When the leaf certificate expires.
    public var expiry: Date? {
        chain.first.map { Date(timeIntervalSince1970: TimeInterval($0.notValidAfter)) }
    }

    /// Loads a chain and key from PEM files; a file that is missing, unreadable or not
    /// PEM is named in the error, with what is wrong with it.
    public static func load(certificate certificatePath: String, key keyPath: String) throws -> ServerCertificate {
        let chain = try certificates(inPEMFile: certificatePath, purpose: "certificate")
        guard let leaf = chain.first else { throw CertificateError("the certificate file \(certificatePath) holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: try read(keyPath, purpose: "key"), format: .pem)
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError("the key file \(keyPath) holds no PEM private key, or one protected by a passphrase", detail: error)
        }
        return ServerCertificate(chain: chain, key: key, fingerprint: try Self.fingerprint(of: leaf))
    }

    /// The certificates in the PEM file at `path`, read as ``load(certificate:key:)`` reads
    /// them; `purpose` names the file in errors (`certificate`, `client CA`).
    public static func certificates(inPEMFile path: String, purpose: String) throws -> [NIOSSLCertificate] {
        let bytes = try read(path, purpose: purpose)
        do {
            return try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw CertificateError("the \(purpose) file \(path) is not a PEM file of certificates", detail: error)
        }
    }

    private static func read(_ path: String, purpose: String) throws -> [UInt8] {
        do {
            return try PosixFileSystem().readFile(path)
        } catch {
            throw CertificateError("cannot read the \(purpose) file \(path): \(StorageFileSystemError.explanation(error.errorNumber))", detail: error)
        }
    }

    /// Generates a self-signed certificate for `hostNames` (plus localhost and the loopback
    /// addresses), valid for `days`, with a P-256 key; returns it with its PEM texts.
    public static func generate(hostNames: [String], days: Int = 825, now: Date = Date()) throws -> (certificate: ServerCertificate, certificatePEM: String, keyPEM: String) {
        let privateKey = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Deputy")
            CommonName(hostNames.first ?? "localhost")
        }
        var names: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                                    .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))]
        for host in hostNames where host != "localhost" { names.append(.dnsName(host)) }
        // A self-signed certificate that is also its own CA, so clients can trust it either
        // by its fingerprint or by passing the file itself as the CA.
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(names)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(privateKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(privateKey)
        )
        let certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        let keyPEM = privateKey.pemRepresentation + "\n"
        let nioCertificate = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        let nioKey = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        return (ServerCertificate(chain: [nioCertificate], key: nioKey, fingerprint: try fingerprint(of: nioCertificate)), certificatePEM, keyPEM)
    }

    /// `sha256:` and the colon-separated uppercase hex of the SHA-256 of the DER encoding.
    public static func fingerprint(of certificate: NIOSSLCertificate) throws -> String {
        let digest = SHA256.hash(data: try certificate.toDERBytes())
        return "sha256:" + digest.map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}

/// A certificate that could not be read or made.
public struct CertificateError: Error, CustomStringConvertible {
    public let description: String
    /// The library's own account of the failure, for the debug log.
    public let detail: String?
    init(_ description: String, detail: (any Error)? = nil) {
        self.description = description
        self.detail = detail.map { String(describing: $0) }
    }
}
