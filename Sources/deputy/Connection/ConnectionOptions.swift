import ArgumentParser
import DeputyClient
import DeputyProtocol
import Foundation

/// The options every subcommand shares: where the server is, who to log in as, how to
/// trust it, and how to print. They may come before the subcommand too (see
/// ``GlobalOptions``).
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.customShort("H"), .long],
        help: "The server: HOST[:PORT], deputy://HOST:PORT, deputy+plain://HOST:PORT (loopback only) or unix:/PATH; several, comma-separated, are tried in order until one answers (the nodes of a cluster)."
    )
    var server: String?

    @Option(name: [.customShort("u"), .long], help: "The login (a user's address or a service account's name).")
    var user: String?

    @Option(help: "A file holding the password (mode 600). Else DEPUTY_PASSWORD, else a prompt.")
    var passwordFile: String?

    @Option(help: "A PEM file with the CA, or the server's own certificate, to trust. With --fingerprint, both must hold.")
    var ca: String?

    @Option(help: "The SHA-256 fingerprint of the server's certificate to trust (sha256:AB:CD:...). With --ca, both must hold.")
    var fingerprint: String?

    @Option(help: "The known-hosts file for servers trusted on first use.")
    var knownHosts: String?

    @Option(name: [.customShort("o"), .long], help: "Output: table (on a terminal), json, or plain (when piped).")
    var output: OutputFormat?

    @Option(help: "The profile file (default ~/.config/deputy/config.json).")
    var profile: String?

    @Flag(name: [.customShort("v"), .long], help: "After an error, show the underlying library's or system's own account of it.")
    var verbose = false

    @Option(help: "Answer queries and audit reads only once the server has applied this revision (the one a change's reply named): a read through another node of a cluster then sees that change.")
    var revision: UInt64?

    func validate() throws {
        if let fingerprint, Fingerprint(fingerprint) == nil {
            throw ValidationError("--fingerprint \(fingerprint) is not a certificate fingerprint; expected \(Fingerprint.expectedForm)")
        }
    }

    /// The options with the profile's defaults filled in.
    func resolved() throws -> ResolvedOptions {
        let location = Profile.location(flag: profile)
        let profile = try Profile.load(path: location.path, named: location.named)
        let serverText = server ?? profile.server ?? "127.0.0.1:\(DeputyClientConfiguration.Endpoint.defaultPort)"
        var endpoints: [DeputyClientConfiguration.Endpoint] = []
        for text in serverText.split(separator: ",", omittingEmptySubsequences: false) {
            do {
                endpoints.append(try DeputyClientConfiguration.Endpoint(parsing: text.trimmingCharacters(in: .whitespaces)))
            } catch {
                throw CLIError(.usage, error.message)
            }
        }
        /// Names a file in messages, with the profile when it came from there.
        func file(_ flag: String?, _ fromProfile: String?, _ what: String) -> NamedFile? {
            if let flag { return NamedFile(path: flag, what: what) }
            return fromProfile.map { NamedFile(path: $0, what: "\(what) named in \(location.path)") }
        }
        return ResolvedOptions(
            endpoints: endpoints, user: user ?? profile.user, passwordFile: file(passwordFile, profile.passwordFile, "the password file"),
            ca: file(ca, profile.ca, "the CA file"), fingerprint: fingerprint.flatMap(Fingerprint.init) ?? profile.fingerprint,
            knownHosts: knownHosts ?? profile.knownHosts ?? (Profile.configDirectory() as NSString).appendingPathComponent("known_hosts"),
            format: output ?? profile.output ?? .automatic(), revision: revision
        )
    }
}

/// A file named by a flag or the profile, with the words that name it in messages.
struct NamedFile: Sendable {
    let path: String
    /// `the CA file`, or `the CA file named in ~/.config/deputy/config.json`.
    let what: String
}

/// Connection options after the profile: what `deputy` uses.
struct ResolvedOptions: Sendable {
    /// The servers to try, in order.
    let endpoints: [DeputyClientConfiguration.Endpoint]
    let user: String?
    let passwordFile: NamedFile?
    let ca: NamedFile?
    let fingerprint: Fingerprint?
    let knownHosts: String
    let format: OutputFormat
    /// The revision every query and audit read waits for (`revision=`, protocol.md).
    let revision: UInt64?

    /// The trust to use: a CA file, a pin, both (each must hold), or the known-hosts file
    /// with a prompt on first contact.
    func trust() throws -> DeputyTrust {
        if let ca {
            try LocalFile.requireReadable(ca.path, ca.what)
            return fingerprint.map { .certificateFile(ca.path, pinned: $0) } ?? .certificateFile(ca.path)
        }
        if let fingerprint { return .pinned(fingerprint) }
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
