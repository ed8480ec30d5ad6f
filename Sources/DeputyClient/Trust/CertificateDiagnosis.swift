import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Says why a server's certificate was not trusted. The TLS library says only that
/// verification failed; a second connection, which trusts nothing, shows the certificate the
/// server presents, and its dates and fingerprint tell an expired certificate from one that
/// the trusted certificates did not issue.
enum CertificateDiagnosis {
    static func explain(
        _ error: DeputyClientError, endpoint: DeputyClientConfiguration.Endpoint, trust: DeputyTrust, group: any EventLoopGroup
    ) async -> DeputyClientError {
        guard case .tcp(let host, let port) = endpoint.address, let leaf = await presentedCertificate(host: host, port: port, group: group)
        else { return error }
        let now = time(nil)
        let why: String
        if leaf.notValidAfter < now {
            why = "it expired on \(date(leaf.notValidAfter))"
        } else if leaf.notValidBefore > now {
            why = "it is not valid until \(date(leaf.notValidBefore))"
        } else if error.detail?.contains("failedToValidateHostname") == true {
            why = "it is not issued for \(host)"
        } else {
            switch trust.mode {
            case .certificateFile(let path), .certificateFileAndPin(let path, _): why = "no certificate in \(path) issued it"
            case .systemDefault: why = "no certificate authority this system trusts issued it"
            case .certificates, .pinned, .knownHosts: why = "none of the trusted certificates issued it"
            }
        }
        let presented = (try? Fingerprint(certificate: leaf)).map { "; the server presented \($0)" } ?? ""
        return .certificateNotTrusted(endpoint.description, why + presented, detail: error.detail)
    }

    /// The leaf certificate `host:port` presents, from a handshake that trusts nothing and
    /// stops there; `nil` when none could be seen within 5 seconds.
    private static func presentedCertificate(host: String, port: Int, group: any EventLoopGroup) async -> NIOSSLCertificate? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([])
        guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
        let seen = Mutex<NIOSSLCertificate?>(nil)
        let channel = try? await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let capture: NIOSSLCustomVerificationCallback = { chain, verdict in
                        seen.withLock { $0 = chain.first }
                        verdict.succeed(NIOSSLVerificationResult.failed)
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: nil, customVerificationCallback: capture)
                    )
                }
            }
            .connect(host: host, port: port).get()
        guard let channel else { return nil }
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount.seconds(5)) { channel.close(promise: nil) }
        try? await channel.closeFuture.get()
        deadline.cancel()
        return seen.withLock { $0 }
    }

    private static func date(_ seconds: time_t) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
