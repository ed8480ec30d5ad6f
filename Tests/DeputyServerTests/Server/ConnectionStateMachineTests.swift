@testable import DeputyServer
import DeputyProtocol
import NIOCore
import Testing

/// The connection's life without a channel: each event and the action it gives.
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine

    static func line(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// A protocol error, as the decoder raises for a broken stream.
    static func someProtocolError() -> ProtocolError {
        do {
            _ = try RequestParser().parse(ByteBuffer(string: #"PING "unterminated"#))
        } catch {
            return error
        }
        fatalError("an unterminated quote must fail to parse")
    }

    @Test("lines are answered at once; behind a waiting request they queue, in order, and are answered when it finishes")
    func pipeliningBehindAWait() {
        var machine = Machine(tls: false, maximumPending: 8)
        #expect(machine.lineDecoded(Self.line("PING")) == .answer(Self.line("PING")))
        #expect(machine.requestMustWait() == .flushAndStartWait)
        #expect(machine.phase == .waiting)
        #expect(machine.lineDecoded(Self.line("ONE")) == .none)
        #expect(machine.lineDecoded(Self.line("TWO")) == .none)
        #expect(machine.queuedCount == 2)
        #expect(machine.waitFinished(close: false) == .answerQueue)
        #expect(machine.nextQueuedLine() == Self.line("ONE"))
        // The second queued line waits too: the rest stay queued behind it.
        #expect(machine.requestMustWait() == .flushAndStartWait)
        #expect(machine.nextQueuedLine() == nil)
        #expect(machine.queueAnswered(writable: true) == .flush)
        #expect(machine.waitFinished(close: false) == .answerQueue)
        #expect(machine.nextQueuedLine() == Self.line("TWO"))
        #expect(machine.nextQueuedLine() == nil)
        #expect(machine.queueAnswered(writable: true) == .flush)
        #expect(machine.phase == .ready)
    }

    @Test("reading stops while the queue is full or the client reads no replies, and resumes when either clears")
    func backPressure() {
        var machine = Machine(tls: false, maximumPending: 2)
        #expect(machine.readRequested(writable: true) == .read)
        #expect(machine.readRequested(writable: false) == .none)
        #expect(machine.readHeld)
        #expect(machine.writabilityChanged(writable: true) == .read)
        #expect(!machine.readHeld)
        _ = machine.requestMustWait()
        _ = machine.lineDecoded(Self.line("A"))
        #expect(machine.readRequested(writable: true) == .read)
        _ = machine.lineDecoded(Self.line("B"))
        #expect(machine.readRequested(writable: true) == .none, "two queued behind a wait: the limit")
        #expect(machine.writabilityChanged(writable: true) == .none, "still full")
        #expect(machine.waitFinished(close: false) == .answerQueue)
        while machine.nextQueuedLine() != nil {}
        #expect(machine.queueAnswered(writable: true) == .read, "the queue is answered: the held read goes on")
    }

    @Test("a drain finishes what is in hand and what was read, then closes, and reads nothing more")
    func drain() {
        var machine = Machine(tls: false, maximumPending: 8)
        _ = machine.requestMustWait()
        _ = machine.lineDecoded(Self.line("QUEUED"))
        #expect(machine.drain() == .none, "the request in hand is not cut off")
        #expect(machine.readRequested(writable: true) == .none)
        #expect(machine.waitFinished(close: false) == .answerQueue)
        #expect(machine.nextQueuedLine() == Self.line("QUEUED"))
        #expect(machine.queueAnswered(writable: true) == .closeAfterReplies)
        #expect(machine.phase == .closing)
        // An idle connection closes at once.
        var idle = Machine(tls: false, maximumPending: 8)
        #expect(idle.drain() == .closeAfterReplies)
    }

    @Test("before the TLS handshake nothing can be written: an end of input or an idle timeout closes at once")
    func tlsGating() {
        var machine = Machine(tls: true, maximumPending: 8)
        #expect(!machine.canWrite)
        #expect(machine.inputClosed() == .close)
        #expect(machine.phase == .closed)
        var idle = Machine(tls: true, maximumPending: 8)
        #expect(idle.idleTimeout() == .close)
        var handshaken = Machine(tls: true, maximumPending: 8)
        handshaken.handshakeCompleted()
        #expect(handshaken.canWrite)
        #expect(handshaken.idleTimeout() == .idleAndClose)
    }

    @Test("a connection whose request is still running is not idle; once it is answered, silence closes it")
    func notIdleWhileWaiting() {
        var machine = Machine(tls: false, maximumPending: 8)
        #expect(machine.lineDecoded(ByteBuffer(string: "ADD USER a@example.test password=x")) == .answer(ByteBuffer(string: "ADD USER a@example.test password=x")))
        #expect(machine.requestMustWait() == .flushAndStartWait)
        #expect(machine.lineDecoded(ByteBuffer(string: "ADD USER b@example.test password=y")) == .none)
        // Minutes of hashing with nothing more to read: the timeout passes, nothing closes.
        #expect(machine.idleTimeout() == .none)
        #expect(machine.phase == .waiting)
        #expect(machine.queuedCount == 1)
        _ = machine.waitFinished(close: false)
        while machine.nextQueuedLine() != nil {}
        _ = machine.queueAnswered(writable: true)
        #expect(machine.phase == .ready)
        #expect(machine.idleTimeout() == .idleAndClose)
    }

    @Test("a line over the limit while a request waits is answered after the lines before it")
    func protocolErrorWhileWaiting() {
        let tooLong = Self.someProtocolError()
        var machine = Machine(tls: false, maximumPending: 8)
        _ = machine.requestMustWait()
        _ = machine.lineDecoded(Self.line("BEFORE"))
        #expect(machine.protocolError(tooLong) == .none)
        #expect(machine.waitFinished(close: false) == .answerQueue)
        #expect(machine.nextQueuedLine() == Self.line("BEFORE"))
        #expect(machine.queueAnswered(writable: true) == .failAndClose(tooLong))
        #expect(machine.lineDecoded(Self.line("AFTER")) == .none)
        var ready = Machine(tls: false, maximumPending: 8)
        #expect(ready.protocolError(tooLong) == .failAndClose(tooLong))
    }

    @Test("QUIT and a half-close end the connection once answered; a wait that ends in close drops the queue")
    func closing() {
        var machine = Machine(tls: false, maximumPending: 8)
        #expect(machine.answered(close: true) == .closeAfterReplies)
        #expect(machine.lineDecoded(Self.line("LATE")) == .none)
        #expect(machine.answered(close: true) == .none)
        var halfClosed = Machine(tls: false, maximumPending: 8)
        _ = halfClosed.requestMustWait()
        _ = halfClosed.lineDecoded(Self.line("LAST"))
        #expect(halfClosed.inputClosed() == .none)
        #expect(halfClosed.waitFinished(close: false) == .answerQueue)
        #expect(halfClosed.nextQueuedLine() == Self.line("LAST"))
        #expect(halfClosed.queueAnswered(writable: true) == .closeAfterReplies)
        var closedByWait = Machine(tls: false, maximumPending: 8)
        _ = closedByWait.requestMustWait()
        _ = closedByWait.lineDecoded(Self.line("DROPPED"))
        #expect(closedByWait.waitFinished(close: true) == .closeAfterReplies)
        #expect(closedByWait.nextQueuedLine() == nil)
        // A wait that finishes after the channel went away does nothing.
        var gone = Machine(tls: false, maximumPending: 8)
        _ = gone.requestMustWait()
        gone.channelInactive()
        #expect(gone.waitFinished(close: false) == .none)
    }
}
