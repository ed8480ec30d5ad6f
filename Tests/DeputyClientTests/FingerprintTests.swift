import DeputyClient
import Foundation
import NIOSSL
import Testing

@Suite("Fingerprint")
struct FingerprintTests {
    static let bytes: [UInt8] = (0..<32).map { UInt8($0 * 7 + 3) }
    static let canonical =
        "sha256:03:0A:11:18:1F:26:2D:34:3B:42:49:50:57:5E:65:6C:73:7A:81:88:8F:96:9D:A4:AB:B2:B9:C0:C7:CE:D5:DC"

    @Test("the canonical form is sha256: and uppercase colon-separated pairs")
    func canonicalForm() throws {
        let fingerprint = try #require(Fingerprint(digest: Self.bytes))
        #expect(fingerprint.description == Self.canonical)
    }

    @Test("every accepted spelling parses to the same value", arguments: [
        FingerprintTests.canonical,
        FingerprintTests.canonical.lowercased(),
        "SHA256:" + FingerprintTests.canonical.dropFirst(7),
        String(FingerprintTests.canonical.dropFirst(7)),
        FingerprintTests.canonical.dropFirst(7).replacingOccurrences(of: ":", with: ""),
        "sha256:" + FingerprintTests.canonical.dropFirst(7).replacingOccurrences(of: ":", with: "").lowercased(),
        "  \(FingerprintTests.canonical)\n",
    ])
    func parsesSpellings(text: String) throws {
        #expect(Fingerprint(text)?.bytes == Self.bytes)
    }

    @Test("malformed fingerprints are rejected", arguments: [
        "",
        "sha256:",
        "sha1:" + String(repeating: "AB", count: 32),
        String(repeating: "AB", count: 31),
        String(repeating: "AB", count: 33),
        String(repeating: "ZZ", count: 32),
        String(repeating: "AB:", count: 31) + "A",
        String(repeating: "AB:", count: 32),
        String(repeating: "ABC:", count: 31) + "AB",
        "sha256:" + String(repeating: "AB", count: 16) + ":" + String(repeating: "AB", count: 16),
    ])
    func rejectsMalformed(text: String) {
        #expect(Fingerprint(text) == nil)
    }

    @Test("a digest must have 32 bytes")
    func digestLength() {
        #expect(Fingerprint(digest: Array(repeating: 1, count: 31)) == nil)
        #expect(Fingerprint(digest: Array(repeating: 1, count: 33)) == nil)
    }

    @Test("a certificate's fingerprint is the SHA-256 of its DER encoding")
    func certificateFingerprint() throws {
        let certificate = try TestCertificate.selfSigned()
        let fingerprint = try Fingerprint(certificate: certificate.nioCertificate)
        #expect(fingerprint.bytes == certificate.derSHA256)
        #expect(Fingerprint(certificateDER: try certificate.nioCertificate.toDERBytes()) == fingerprint)
        #expect(try Fingerprint(certificate: TestCertificate.selfSigned().nioCertificate) != fingerprint)
    }
}
