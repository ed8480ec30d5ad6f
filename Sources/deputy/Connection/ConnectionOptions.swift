import ArgumentParser
import DeputyClient
import DeputyProtocol
import Foundation

/// The options every subcommand shares: where the server is, who to log in as, how to
/// trust it, and how to print.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.customShort("H"), .long], help: "The server: HOST[:PORT], deputy://HOST:PORT, deputy+plain://HOST:PORT (loopback only) or unix:/PATH.")
    var server: String?

    @Option(name: [.customShort("u"), .long], help: "The login (a user's address or a service account's name).")
    var user: String?

    @Option(help: "A file holding the password (mode 600). Else DEPUTY_PASSWORD, else a prompt.")
    var passwordFile: String?

    @Option(help: "A PEM file with the CA, or the server's own certificate, to trust.")
    var ca: String?

    @Option(help: "The SHA-256 fingerprint of the server's certificate to trust (sha256:AB:CD:...).")
    var fingerprint: String?

    @Option(help: "The known-hosts file for servers trusted on first use.")
    var knownHosts: String?

    @Option(name: [.customShort("o"), .long], help: "Output: table (on a terminal), json, or plain (when piped).")
    var output: OutputFormat?

    @Option(help: "The profile file (default ~/.config/deputy/config.json).")
    var profile: String?

    /// The options with the profile's defaults filled in.
    func resolved() throws -> ResolvedOptions {
        let profile = try Profile.load(path: self.profile ?? Profile.defaultPath())
        let serverText = server ?? profile.server ?? "127.0.0.1:\(DeputyClientConfiguration.Endpoint.defaultPort)"
        let endpoint: DeputyClientConfiguration.Endpoint
        do {
            endpoint = try DeputyClientConfiguration.Endpoint(parsing: serverText)
        } catch {
            throw CLIError(.usage, error.message)
        }
        let format = output ?? profile.output.flatMap(OutputFormat.init(rawValue:)) ?? .automatic()
        return ResolvedOptions(
            endpoint: endpoint, user: user ?? profile.user, passwordFile: passwordFile ?? profile.passwordFile,
            ca: ca ?? profile.ca, fingerprint: fingerprint ?? profile.fingerprint,
            knownHosts: knownHosts ?? profile.knownHosts ?? (Profile.configDirectory() as NSString).appendingPathComponent("known_hosts"),
            format: format
        )
    }
}

/// Connection options after the profile: what `deputy` uses.
struct ResolvedOptions: Sendable {
    let endpoint: DeputyClientConfiguration.Endpoint
    let user: String?
    let passwordFile: String?
    let ca: String?
    let fingerprint: String?
    let knownHosts: String
    let format: OutputFormat

    /// The trust to use: a CA file, a pin, or the known-hosts file with a prompt on first contact.
    func trust() throws -> DeputyTrust {
        if let ca { return .certificateFile(ca) }
        if let fingerprint {
            guard let pin = Fingerprint(fingerprint) else { throw CLIError(.usage, "--fingerprint takes sha256:AB:CD:... (64 hex digits)") }
            return .pinned(pin)
        }
        return .knownHosts(KnownHosts(path: knownHosts)) { contact in
            FirstContactPrompt.ask(contact)
        }
    }
}

/// Asks a person whether to trust a server seen for the first time, like ssh.
enum FirstContactPrompt {
    static func ask(_ contact: DeputyTrust.FirstContact) -> Bool {
        ReplyPrinter.message("""
            The authenticity of \(contact.host) can't be established.
            Certificate fingerprint: \(contact.fingerprint)
            """)
        guard isatty(STDIN_FILENO) == 1 else {
            ReplyPrinter.message("Not a terminal, so not trusting it. Pass --fingerprint \(contact.fingerprint) or --ca FILE to trust it.")
            return false
        }
        ReplyPrinter.write("Trust it and remember it in \(contact.knownHostsPath)? (yes/no) ", to: .standardError)
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "yes" || answer == "y"
    }
}
