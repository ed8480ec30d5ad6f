import DeputyCore
import DeputyStore
import Foundation
import Logging

/// The files the daemon keeps in its data directory besides the store: the TLS certificate
/// and key it generates on first start, the first super administrator's password, and the
/// key that seals the users' TOTP secrets.
public enum DataFiles {
    public static let certificate = "tls-cert.pem"
    public static let key = "tls-key.pem"
    public static let initialPassword = "initial-password"
    public static let factorKey = "factor-key"

    /// The box that seals TOTP secrets, with the key in the data directory's `factor-key`
    /// (base64, mode 0600), made on first use. The key is never in a snapshot, the journal or
    /// an export, so none of them holds a secret anyone can compute codes from.
    ///
    /// In cluster mode (`creating` false) the key is not made: every node must open the
    /// secrets that any other node sealed, so each holds a copy of the one key `deputyd
    /// cluster init` left in the data directory it read (docs/cluster.md).
    public static func factorBox(dataDirectory: String, creating: Bool = true) throws -> FactorSecretBox {
        let path = (dataDirectory as NSString).appendingPathComponent(factorKey)
        if !creating, !FileManager.default.fileExists(atPath: path) {
            throw ConfigurationError(
                "\(path) is missing: every cluster node needs the cluster's factor key, which seals the users' second-factor secrets; copy factor-key (mode 0600) from the data directory deputyd cluster init was run on, or from another node (docs/cluster.md)"
            )
        }
        if FileManager.default.fileExists(atPath: path) {
            let contents: [UInt8]
            do {
                contents = try PosixFileSystem().readFile(path)
            } catch {
                // The daemon runs as another user than the one who made or copied the file,
                // most often.
                throw ConfigurationError("cannot read the factor key \(path): \(StorageFileSystemError.explanation(error.errorNumber))")
            }
            let text = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = Data(base64Encoded: text), let box = FactorSecretBox(key: Array(bytes)) else {
                throw ConfigurationError("\(path) does not hold a factor key (\(FactorSecretBox.keyLength) bytes in base64); restore it from where it was kept")
            }
            return box
        }
        let key = FactorSecretBox.makeKey()
        try writeSecret(Data(key).base64EncodedString() + "\n", to: path)
        return FactorSecretBox(key: key)!
    }

    /// Creates the data directory (mode 0700) when it does not exist.
    public static func prepareDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ConfigurationError("\(path) exists and is not a directory") }
            return
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Writes `text` to `path` with mode 0600, replacing the file atomically and durably.
    public static func writeSecret(_ text: String, to path: String) throws {
        do {
            try SecretFile.write(text, to: path)
        } catch {
            throw ConfigurationError("can't write \(path): \(error)")
        }
    }

    /// The certificate to serve: the given PEM files, else the one in the data directory,
    /// else a new self-signed one written there (key 0600), whose fingerprint is logged.
    public static func certificate(dataDirectory: String, certificatePath: String?, keyPath: String?, logger: Logger) throws -> ServerCertificate {
        if let certificatePath, let keyPath {
            let loaded = try ServerCertificate.load(certificate: certificatePath, key: keyPath)
            warnIfReadableByOthers(key: keyPath, logger: logger)
            return loaded
        }
        if certificatePath != nil || keyPath != nil { throw ConfigurationError("--cert and --key go together") }
        let certificateFile = (dataDirectory as NSString).appendingPathComponent(certificate)
        let keyFile = (dataDirectory as NSString).appendingPathComponent(key)
        if FileManager.default.fileExists(atPath: certificateFile), FileManager.default.fileExists(atPath: keyFile) {
            let loaded = try ServerCertificate.load(certificate: certificateFile, key: keyFile)
            logger.notice("tls certificate", metadata: ["tls.fingerprint": "\(loaded.fingerprint)", "tls.file": "\(certificateFile)"])
            return loaded
        }
        let host = ProcessInfo.processInfo.hostName
        let generated = try ServerCertificate.generate(hostNames: [host])
        try writeSecret(generated.keyPEM, to: keyFile)
        try writeSecret(generated.certificatePEM, to: certificateFile)
        logger.notice("generated a self-signed tls certificate; clients can pin its fingerprint", metadata: [
            "tls.fingerprint": "\(generated.certificate.fingerprint)", "tls.file": "\(certificateFile)",
        ])
        return generated.certificate
    }

    /// A configured key that every user of the machine can read is logged, at start and on
    /// each reload. Not refused: Debian's keys are often readable by the `ssl-cert` group
    /// (0640), which is fine, and a daemon that stopped serving over a mode an operator set
    /// would take the mail path down with it; but a key open to others is one anybody with a
    /// shell can serve the directory's name with.
    static func warnIfReadableByOthers(key path: String, logger: Logger) {
        // `stat` follows a symbolic link (certbot's live/ names are links), whose own mode is 0777.
        guard let info = try? PosixFileSystem().info(path), info.permissions & 0o004 != 0 else { return }
        logger.warning("the TLS key can be read by every user of this machine; run: chmod o-r \(path)", metadata: [
            "tls.key": "\(path)", "tls.key.mode": "\(String(info.permissions, radix: 8))",
        ])
    }
}
