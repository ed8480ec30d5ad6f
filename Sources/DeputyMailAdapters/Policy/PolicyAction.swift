import DeputyServer
import NIOCore

/// A policy delegation answer: one `action=` line and an empty line.
public enum PolicyAction: Hashable, Sendable {
    /// `action=DUNNO`: no opinion; Postfix goes on with its other restrictions.
    case dunno
    /// `action=REJECT <text>`, the text starting with an enhanced status code such as `5.7.1`.
    case reject(String)
    /// `action=DEFER_IF_PERMIT <text>`: a temporary failure, unless another restriction rejects.
    case deferIfPermit(String)

    /// The action line without its terminator, for example `action=REJECT 5.7.1 not logged in`.
    public var line: String {
        switch self {
        case .dunno: "action=DUNNO"
        case .reject(let text): "action=REJECT \(Self.printable(text))"
        case .deferIfPermit(let text): "action=DEFER_IF_PERMIT \(Self.printable(text))"
        }
    }

    /// Appends the action line and the empty line that ends the reply.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString(line)
        buffer.writeString("\n\n")
    }

    // The text quotes a login and a sender that came from the client; a control character
    // there would break the reply's framing.
    private static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }
}
