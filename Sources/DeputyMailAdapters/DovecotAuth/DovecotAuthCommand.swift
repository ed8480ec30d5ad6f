/// A line from a Dovecot auth client, such as Postfix's smtpd.
///
/// ```
/// VERSION	1	2
/// CPID	4711
/// AUTH	1	PLAIN	service=smtp	nologin	lip=127.0.0.1	rip=192.0.2.7	resp=AGJvYgBzZWNyZXQ=
/// CONT	1	Ym9i
/// ```
public enum DovecotAuthCommand: Hashable, Sendable {
    /// `VERSION <major> <minor>`.
    case version(major: Int, minor: Int)
    /// `CPID <pid>`: the client's process, for logs.
    case clientProcess(String)
    /// `AUTH <id> <mechanism> [parameters]`: starts an authentication.
    case authenticate(AuthRequest)
    /// `CONT <id> <base64>`: the client's next response in a multi-step mechanism.
    case `continue`(id: UInt32, response: String)
    /// Any other command, which a server may ignore.
    case other(String)

    /// The fields of an `AUTH` line.
    public struct AuthRequest: Hashable, Sendable {
        /// The client's identifier for the request, echoed in the reply.
        public let id: UInt32
        /// The mechanism, uppercase, for example `PLAIN`.
        public let mechanism: String
        /// `name=value` parameters; boolean ones (`nologin`, `secured`) map to an empty value.
        public let parameters: [String: String]

        /// The base64 initial response, when the client sent one (`resp=`; it may be empty).
        public var initialResponse: String? { parameters["resp"] }
        /// The remote address of the client being authenticated (`rip=`).
        public var remoteAddress: String? { parameters["rip"].flatMap { $0.isEmpty ? nil : $0 } }
    }

    /// Parses a line without its terminator.
    ///
    /// - Throws: ``MailAdapterError`` when a known command lacks a field or has a bad number.
    public init(line: some Collection<UInt8>) throws(MailAdapterError) {
        let fields = DovecotTabEscaping.fields(of: line)
        switch fields[0] {
        case "VERSION":
            guard fields.count >= 3, let major = Int(fields[1]), let minor = Int(fields[2]) else {
                throw .malformed("an auth VERSION line needs a major and a minor version")
            }
            self = .version(major: major, minor: minor)
        case "CPID":
            guard fields.count >= 2 else { throw .malformed("an auth CPID line needs a process id") }
            self = .clientProcess(fields[1])
        case "AUTH":
            guard fields.count >= 3, let id = UInt32(fields[1]), !fields[2].isEmpty else {
                throw .malformed("an auth AUTH line needs an id and a mechanism")
            }
            var parameters: [String: String] = [:]
            for field in fields.dropFirst(3) {
                if let equals = field.firstIndex(of: "=") {
                    parameters[String(field[..<equals])] = String(field[field.index(after: equals)...])
                } else {
                    parameters[field] = ""
                }
            }
            self = .authenticate(AuthRequest(id: id, mechanism: fields[2].uppercased(), parameters: parameters))
        case "CONT":
            guard fields.count >= 2, let id = UInt32(fields[1]) else {
                throw .malformed("an auth CONT line needs an id")
            }
            self = .continue(id: id, response: fields.count >= 3 ? fields[2] : "")
        case let name:
            self = .other(name)
        }
    }
}
