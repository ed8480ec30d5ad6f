import DeputyCore
import DeputyProtocol

/// A request the session answers with an error before it reaches the directory.
struct RequestError: Error {
    let code: ErrorCode
    let text: String

    init(_ code: ErrorCode, _ text: String) {
        self.code = code
        self.text = text
    }

    var reply: Reply { Reply(status: .error(code: code, text: text)) }

    static func invalid(_ text: String) -> RequestError { RequestError(.invalid, text) }
}

/// Turning a login the client sent into the core's values, where the kind of account it
/// names decides which (PASSWD takes a user's address or a service account's name).
enum Operand {
    static func address(_ text: String, _ what: String) throws(RequestError) -> EmailAddress {
        guard let address = EmailAddress(text) else { throw .invalid("\(what) is not a valid mail address") }
        return address
    }

    static func service(_ text: String) throws(RequestError) -> ServiceName {
        guard let name = ServiceName(text) else {
            throw .invalid("a service name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter")
        }
        return name
    }
}
