import DeputyServer
import Foundation
import Metrics
import Logging
import NIOSSL

/// The TLS context from the settings: the given certificate and key, or the data
/// directory's own, and the client certificate authorities.
public enum DaemonTLS {
    public static func load(_ settings: DaemonSettings, logger: Logger) throws -> NIOSSLContext {
        let certificate = try DataFiles.certificate(
            dataDirectory: settings.data, certificatePath: settings.certificate, keyPath: settings.key, logger: logger
        )
        let authorities = try clientCertificateAuthorities(settings)
        // Built before the expiry is recorded: a key that does not match the certificate is
        // refused here, and the metric must go on naming the certificate still served.
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: TLSSettings.serverConfiguration(certificate, clientCertificateAuthorities: authorities))
        } catch NIOSSLError.failedToLoadPrivateKey {
            // BoringSSL's word for a key of another pair: said so, with both files.
            throw ConfigurationError(
                "the key \(settings.key ?? "in the data directory") does not belong to the certificate \(settings.certificate ?? "in the data directory"): give the key the certificate was made for"
            )
        }
        if let expiry = certificate.expiry { ServerMetrics.certificateExpiry.record(expiry.timeIntervalSince1970) }
        return context
    }

    /// The certificates of the client CA file, when one is named; an error when it can't be
    /// read or holds none.
    public static func clientCertificateAuthorities(_ settings: DaemonSettings) throws -> [NIOSSLCertificate] {
        guard let path = settings.clientCertificateAuthorities else { return [] }
        let authorities = try ServerCertificate.certificates(inPEMFile: path, purpose: "client CA")
        guard !authorities.isEmpty else { throw ConfigurationError("the client CA file \(path) holds no certificate") }
        return authorities
    }
}

/// systemd notifications are a courtesy: a failure is logged, never fatal.
public enum DaemonNotifications {
    public static func send(_ notification: () throws -> Bool, logger: Logger) {
        do {
            _ = try notification()
        } catch {
            logger.warning("could not notify systemd", metadata: ["error": "\(error)"])
        }
    }
}

/// The open-file limit, raised at start and on reload to what the connection limits need.
public enum DaemonDescriptors {
    public static func ensure(server: ServerLimits, mail: MailAdapterConfiguration, threads: Int, logger: Logger) {
        let needed = DescriptorLimit.needed(server: server, mail: mail, cores: threads)
        guard let (before, after) = DescriptorLimit.raise(toward: needed) else {
            logger.warning("could not read the open-file limit")
            return
        }
        if after.soft < needed {
            logger.warning(
                "the open-file limit is below what the connection limits need: past it new connections wait unanswered until one closes; raise it (LimitNOFILE= in the unit, ulimit -n in a shell) or lower max-connections",
                metadata: ["limit.open-files": "\(after)", "limit.needed": "\(needed)"]
            )
        } else if after.soft != before.soft {
            logger.info("raised the open-file limit to what the connection limits need", metadata: [
                "limit.open-files.before": "\(before)", "limit.open-files": "\(after)",
            ])
        }
    }
}
