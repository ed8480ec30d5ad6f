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

/// Turning wire text into the core's validated values.
enum Operand {
    static func address(_ text: String, _ what: String) throws(RequestError) -> EmailAddress {
        guard let address = EmailAddress(text) else { throw .invalid("\(what) is not a valid mail address") }
        return address
    }

    static func addresses(_ text: String?, _ what: String) throws(RequestError) -> [EmailAddress] {
        guard let text, !text.isEmpty else { return [] }
        var result: [EmailAddress] = []
        for item in text.split(separator: ",") {
            result.append(try address(String(item), what))
        }
        return result
    }

    static func domain(_ text: String) throws(RequestError) -> DomainName {
        guard let domain = DomainName(text) else { throw .invalid("\(text.prefix(64)) is not a valid domain") }
        return domain
    }

    static func domains(_ text: String?) throws(RequestError) -> [DomainName] {
        guard let text, !text.isEmpty else { return [] }
        var result: [DomainName] = []
        for item in text.split(separator: ",") { result.append(try domain(String(item))) }
        return result
    }

    static func service(_ text: String) throws(RequestError) -> ServiceName {
        guard let name = ServiceName(text) else {
            throw .invalid("a service name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter")
        }
        return name
    }

    static func yes(_ text: String?) -> Bool? {
        text.map { $0 == "yes" || $0 == "on" }
    }

    static func timestamp(_ text: String, _ what: String) throws(RequestError) -> Date {
        guard let date = Timestamp.parse(text) else { throw .invalid("\(what) must be an RFC 3339 time such as 2026-12-01T09:00:00Z") }
        return date
    }

    static func spamAction(_ text: String?, _ what: String) throws(RequestError) -> SpamAction? {
        guard let text else { return nil }
        guard let action = SpamAction(rawValue: text) else {
            throw .invalid("\(what) must be one of \(SpamAction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return action
    }

    static func groupLevel(_ text: String?) -> GroupCreationLevel? {
        text.flatMap(GroupCreationLevel.init(rawValue:))
    }
}

import Foundation
