import DeputyProtocol
import DeputyServer
import Foundation
import Testing

/// Settings: precedence of flag, environment, file and default, and errors that point at
/// the place that gave the bad value.
@Suite("Settings")
struct SettingsTests {
    @Test("contrib/deputyd.json, as docs/deploy.md installs it, writes the ACL file and opens the dict socket that docs/dovecot.md's block reads")
    func exampleConfigurationFeedsTheDocumentedDovecot() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let example = try ConfigurationFile.load(path: repository.appendingPathComponent("contrib/deputyd.json").path)
        let acl = try #require(example[.dovecotACL]?.texts.first, "contrib/deputyd.json has no dovecot-acl: Dovecot would show no shared mailbox")
        let dict = try #require(example[.dovecotDict]?.texts.first)
        let block = try DovecotLab.documentedBlock()
        #expect(block.contains("acl = vfile:\(acl):"), "\(block)")
        #expect(block.contains("acl_shared_dict = proxy:\(dict):"), "\(block)")
    }

    private func file(_ text: String, path: String = "deputyd.json") throws -> [Setting: SettingValue] {
        try ConfigurationFile.parse(Data(text.utf8), path: path)
    }

    private func settingsError(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch let error as SettingsError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    /// An empty text is never what an administrator means: an empty `initial-password`
    /// made a super administrator who bound with no password, an empty `plain-socket` a
    /// plaintext listener in the abstract namespace that every local user could reach, and
    /// an empty path failed only at start (or not at all) after `check-config` said ok.
    @Test("An empty value, in the file or as a flag, is refused with its place, for every setting that takes text")
    func emptyValuesAreRefused() throws {
        for setting in [Setting.initialPassword, .plainSocket, .data, .auditLog, .dovecotACL, .clusterDatabase, .cert] {
            let fromFile = try file("{\n  \"\(setting.name)\": \"\"\n}")
            let message = settingsError { _ = try DaemonSettings(SettingValues(flags: [:], environment: [:], file: fromFile)) }
            #expect(message.hasPrefix("deputyd.json:2: \(setting.name): ") && message.contains("empty"), "\(setting.name): \(message)")
            let flagged = settingsError { _ = try DaemonSettings(SettingValues(flags: [setting: [""]], environment: [:])) }
            #expect(flagged.contains("empty"), "\(setting.name) as a flag: \(flagged)")
        }
        let listed = settingsError { _ = try DaemonSettings(SettingValues(flags: [.tcpTable: ["senders=127.0.0.1:10041", ""]], environment: [:])) }
        #expect(listed.contains("empty"), "\(listed)")
    }

    /// Postfix's tcp table (tcp_table(5)) reaches HOST:PORT only: a tcp-table listener on a
    /// Unix socket started, and no Postfix lookup could ever reach it.
    @Test("a tcp-table listener on a Unix socket is refused, since Postfix's tcp table can't reach one")
    func tcpTableNeedsHostAndPort() throws {
        let message = settingsError { _ = try DaemonSettings(SettingValues(flags: [.tcpTable: ["aliases=/run/deputy/tcp.sock"]], environment: [:])) }
        #expect(message.hasPrefix("--tcp-table: ") && message.contains("HOST:PORT"), "\(message)")
        #expect(try DaemonSettings(SettingValues(flags: [.tcpTable: ["aliases=127.0.0.1:10042"]], environment: [:])).mail.listeners.count == 1)
    }

    /// docs/configuration.md: numbers are JSON numbers, and threads is auto or a number.
    @Test("threads and hash-threads take a JSON number as well as \"auto\" or a number in quotes")
    func threadCountsAsNumbers() throws {
        let settings = try DaemonSettings(SettingValues(flags: [:], environment: [:], file: try file(#"{"threads": 3, "hash-threads": "2"}"#)))
        #expect(settings.threads == 3 && settings.hashThreads == 2)
        // Printed back as JSON numbers, and "auto" as a string.
        #expect(settings.printed().contains(#""threads": 3,"#) && settings.printed().contains(#""hash-threads": 2,"#), "\(settings.printed())")
        #expect(try DaemonSettings(SettingValues(flags: [:], environment: [:])).printed().contains(#""threads": "auto","#))
        let message = settingsError { _ = try DaemonSettings(SettingValues(flags: [:], environment: [:], file: try file(#"{"threads": 0}"#))) }
        #expect(message.hasPrefix("deputyd.json:1: threads: expected auto or a whole number from 1 to 1024"), "\(message)")
    }

    /// A number given as a flag or a variable is written back by --print-config as given:
    /// forms Swift's parsers take but JSON does not (hexadecimal, a sign, a bare point) made
    /// a printed configuration that check-config then refused.
    @Test("numbers from flags and the environment are plain decimals")
    func numbersArePlainDecimals() throws {
        for text in ["0x10", "+300", "300.", ".5", "0X1A", "0x1p4", "1e3", " 30"] {
            let message = settingsError { _ = try DaemonSettings(SettingValues(flags: [.idleTimeout: [text]], environment: [:])) }
            #expect(message.hasPrefix("--idle-timeout: expected a number of seconds above 0"), "\(text): \(message)")
        }
        let count = settingsError { _ = try DaemonSettings(SettingValues(flags: [.maxConnections: ["+5"]], environment: [:])) }
        #expect(count.hasPrefix("--max-connections: expected a whole number"), "\(count)")
        #expect(try DaemonSettings(SettingValues(flags: [.idleTimeout: ["2.5"]], environment: [:])).server.limits.idleTimeout == 2.5)
    }

    /// check-config said ok to two listeners on one address, which serve then refused.
    @Test("two listeners on one address are refused with the settings that name it")
    func listenersNeedAddressesOfTheirOwn() throws {
        let clash = settingsError {
            _ = try DaemonSettings(SettingValues(flags: [:], environment: [:], file: try file(#"{"listen": "127.0.0.1:27902", "plain-listen": "127.0.0.1:27902"}"#)))
        }
        #expect(clash == "deputyd.json:1: plain-listen: 127.0.0.1:27902 is listen's address too; each listener needs its own", "\(clash)")
        let sockets = settingsError {
            _ = try DaemonSettings(SettingValues(flags: [.plainSocket: ["/run/deputy/s.sock"], .socketmap: ["/run/deputy/s.sock"]], environment: [:]))
        }
        #expect(sockets.contains("each listener needs its own"), "\(sockets)")
        let metrics = settingsError {
            _ = try DaemonSettings(SettingValues(flags: [.plainListen: ["127.0.0.1:7637"], .metricsListen: ["127.0.0.1:7637"]], environment: [:]))
        }
        #expect(metrics.hasPrefix("--metrics-listen: "), "\(metrics)")
    }

    @Test("A flag beats the environment, which beats the file, which beats the default")
    func precedence() throws {
        let fromFile = try file("""
            {
              "max-connections": 30,
              "idle-timeout": 40,
              "max-pending": 50
            }
            """)
        let environment = ["DEPUTY_MAX_CONNECTIONS": "20", "DEPUTY_IDLE_TIMEOUT": "25", "PATH": "/bin"]
        let values = SettingValues(flags: [.maxConnections: ["10"]], environment: environment, file: fromFile)
        let settings = try DaemonSettings(values)
        #expect(settings.server.limits.maximumConnections == 10)
        #expect(settings.server.limits.idleTimeout == 25)
        #expect(settings.server.limits.protocolLimits.maximumPendingRequests == 50)
        #expect(settings.server.limits.maximumListing == 1_000)
        #expect(values[.maxConnections]?.source == .flag)
        #expect(values[.idleTimeout]?.source == .environment)
        #expect(values[.maxPending]?.source == .file(path: "deputyd.json", line: 4))
        #expect(values[.maxListing]?.source == .defaultValue)
        #expect(values[.plainListen] == nil)
    }

    @Test("Lists: an array in the file, commas in the environment, repeated flags")
    func lists() throws {
        let fromFile = try file(#"{"tcp-table": ["senders=127.0.0.1:10041", "aliases=127.0.0.1:10042"]}"#)
        #expect(try DaemonSettings(SettingValues(flags: [:], environment: [:], file: fromFile)).mail.listeners.count == 2)
        let environment = ["DEPUTY_TCP_TABLE": "senders=127.0.0.1:10041, mailboxes=127.0.0.1:10043,delegates=127.0.0.1:10044"]
        #expect(try DaemonSettings(SettingValues(flags: [:], environment: environment, file: fromFile)).mail.listeners.count == 3)
    }

    @Test("The milter listener: its address, and what unauthenticated mail gets (accept unless told)")
    func milter() throws {
        let accepting = try DaemonSettings(SettingValues(flags: [.milter: ["127.0.0.1:7644"]], environment: [:]))
        #expect(accepting.mail.listeners.map(\.kind) == [.milter(.accept)])
        #expect(accepting.mail.listeners.map(\.address) == [.tcp(host: "127.0.0.1", port: 7644)])
        let rejecting = try DaemonSettings(SettingValues(flags: [.milter: ["/run/deputy/milter"]], environment: ["DEPUTY_MILTER_UNAUTHENTICATED": "reject"]))
        #expect(rejecting.mail.listeners.map(\.kind) == [.milter(.reject)])
        #expect(settingsError { _ = try DaemonSettings(SettingValues(flags: [.milter: ["127.0.0.1:7644"], .milterUnauthenticated: ["maybe"]], environment: [:])) }
            .hasPrefix("--milter-unauthenticated: "))
        #expect(settingsError { _ = try DaemonSettings(SettingValues(flags: [.milter: ["192.0.2.1:7644"]], environment: [:])) }
            .contains("is not a loopback address"))
    }

    @Test("Mistakes in the file name its line")
    func fileErrors() {
        #expect(settingsError { _ = try file("{\n  \"listen\": \"127.0.0.1:7636\",\n  \"max-conections\": 5\n}") }
            == #"deputyd.json:3: unknown setting "max-conections"; did you mean "max-connections"?"#)
        #expect(settingsError { _ = try file("{\n  \"max-connections\": \"5\"\n}") }
            == "deputyd.json:2: max-connections: expected a whole number of at least 1, like 1024")
        #expect(settingsError { _ = try file("{\n  \"idle-timeout\": true\n}") }
            == "deputyd.json:2: idle-timeout: expected a number of seconds above 0, like 300")
        #expect(settingsError { _ = try file("{\n  \"log-level\": \"loud\"\n}") }
            == #"deputyd.json:2: log-level: expected one of "trace", "debug", "info", "notice", "warning", "error", "critical""#)
        #expect(settingsError { _ = try file("{\n  \"listen\": \"127.0.0.1:1\",\n  \"listen\": \"127.0.0.1:2\"\n}") }
            == "deputyd.json:3: listen is given twice (first on line 2)")
        #expect(settingsError { _ = try file("[1, 2]") }.hasPrefix("deputyd.json:1: the file must hold one JSON object"))
        // Foundation reports the character; the message turns it into line and column.
        #expect(settingsError { _ = try file("{\n  \"idle-timeout\": 5,,\n}") }.hasPrefix("deputyd.json:2:"))
        #expect(settingsError { _ = try file("{\n  \"listen\": 7636\n}") } == "deputyd.json:2: listen: expected a string, in quotes")
        // A number too large for any timer is refused, not taken in and crashed on.
        #expect(settingsError { _ = try file("{\n  \"idle-timeout\": 1e300\n}") }.hasPrefix("deputyd.json:2: idle-timeout: expected at most 315576000 seconds (ten years)"))
    }

    @Test("Keys that begin with _ are comments; null leaves the default")
    func commentsAndNull() throws {
        let values = try file(#"{"_comment": "the main daemon", "_listen": 5, "idle-timeout": null}"#)
        #expect(values.isEmpty)
    }

    @Test("Bad values from the environment or a flag name the variable or the flag")
    func otherSources() {
        #expect(settingsError { _ = try DaemonSettings(SettingValues(flags: [:], environment: ["DEPUTY_IDLE_TIMEOUT": "soon"])) }
            == #"DEPUTY_IDLE_TIMEOUT: expected a number of seconds above 0, not "soon""#)
        #expect(settingsError { _ = try DaemonSettings(SettingValues(flags: [.idleTimeout: ["400000000"]], environment: [:])) }
            == #"--idle-timeout: expected at most 315576000 seconds (ten years), not "400000000""#)
        #expect(settingsError { _ = try DaemonSettings(SettingValues(flags: [.maxLine: ["0"]], environment: [:])) }
            == #"--max-line: expected a whole number of at least 1, not "0""#)
        #expect(settingsError { _ = try DaemonSettings(SettingValues(flags: [.plainListen: ["0.0.0.0:7000"]], environment: [:])) }
            .hasPrefix("--plain-listen: 0.0.0.0:7000 is not a loopback address"))
        #expect(settingsError { _ = try DaemonSettings(SettingValues(flags: [.metricsListen: ["192.0.2.1:9100"]], environment: [:])) }
            .hasPrefix("--metrics-listen: 192.0.2.1:9100 is not a loopback HOST:PORT"))
        #expect(settingsError { _ = try DaemonSettings(SettingValues(flags: [.cert: ["c.pem"]], environment: [:])) }
            .hasPrefix("--cert: cert and key go together"))
        #expect(SettingValues.unknownEnvironmentNames(in: ["DEPUTY_LISTEN": "x", "DEPUTY_LISTN": "y", "DEPUTY_CONFIG": "z", "HOME": "/"])
            == ["DEPUTY_LISTN"])
    }

    @Test("The printed configuration redacts secrets, says where each value came from, and reads back as a file")
    func printed() throws {
        let values = SettingValues(
            flags: [.initialPassword: ["hunter2-is-secret"], .listen: ["127.0.0.1:7000"]], environment: ["DEPUTY_LOG_LEVEL": "debug"],
            file: try file(#"{"snapshot-every": 500}"#)
        )
        let text = try DaemonSettings(values).printed()
        #expect(!text.contains("hunter2"))
        #expect(text.contains(#""initial-password": "<redacted>""#))
        #expect(text.contains(#""listen": "flag""#))
        #expect(text.contains(#""log-level": "environment""#))
        #expect(text.contains(#""snapshot-every": "deputyd.json:1""#))
        // The printed form is itself a valid configuration file (secrets aside).
        let reread = try file(text.replacingOccurrences(of: "\"<redacted>\"", with: "null"))
        #expect(reread[.listen]?.texts == ["127.0.0.1:7000"])
        #expect(reread[.snapshotEvery]?.texts == ["500"])
        #expect(reread[.logLevel]?.texts == ["debug"])
    }

    @Test("A reload names the restart-only settings that changed")
    func restartSettings() throws {
        let before = try DaemonSettings(SettingValues(flags: [:], environment: [:]))
        let after = try DaemonSettings(SettingValues(flags: [.listen: ["127.0.0.1:9"], .maxConnections: ["3"], .logLevel: ["debug"]], environment: [:]))
        #expect(before.restartSettingsChanged(in: after) == [.listen])
    }
}
