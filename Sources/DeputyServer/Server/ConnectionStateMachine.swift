import DeputyProtocol
import NIOCore

/// The life of one protocol connection, apart from its I/O: which line to answer now,
/// which to queue, when to stop reading, when to flush and when to close.
///
/// Each event returns the action the ``SessionHandler`` must perform; the machine touches
/// no channel, so every path (pipelining behind a wait, back-pressure, draining, a TLS
/// handshake that never finishes) is tested without one.
///
/// ```
/// handshaking --handshake--> ready --a request must wait--> waiting --it finished--> ready
///      \                      |  \______________________________/                    |
///       \-- input ends ------> closing (last replies out) --> closed <-- channel gone
/// ```
struct ConnectionStateMachine {
    /// Where the connection is.
    enum Phase: Equatable {
        /// A TLS handshake has not finished: nothing can be written yet.
        case handshaking
        /// Lines are answered as they are decoded.
        case ready
        /// A request runs elsewhere (a BIND's password hash, a change's commit): lines that
        /// arrive queue behind it, in order.
        case waiting
        /// The last replies are being written; then the channel closes.
        case closing
        /// The channel is gone.
        case closed
    }

    /// What the handler must do.
    enum Action: Equatable {
        /// Nothing.
        case none
        /// Answer this line now, from the session.
        case answer(ByteBuffer)
        /// Pass the read on to the channel.
        case read
        /// Write the replies gathered so far.
        case flush
        /// Write the replies gathered so far, and run the request that must wait.
        case flushAndStartWait
        /// Write the replies gathered so far, and answer the lines queued behind the wait.
        case answerQueue
        /// Write what is gathered, then close the channel once it is written.
        case closeAfterReplies
        /// Close at once: nothing can be written (the TLS handshake never finished).
        case close
        /// Write this error as the last reply, then close.
        case failAndClose(ProtocolError)
        /// Write the idle-timeout reply as the last one, then close.
        case idleAndClose
    }

    private(set) var phase: Phase
    /// The lines read while a request waits.
    private var queued = CircularBuffer<ByteBuffer>()
    /// The client ended its input, or the server is draining: close once all is answered.
    private var inputEnded = false
    /// The server is shutting down: nothing more is read.
    private var draining = false
    /// A read was asked for and held back.
    private(set) var readHeld = false
    /// Whether the handler holds the input unsplit until the waiting request ends
    /// (``holdInput()``): reading waits too, so the held bytes stay bounded.
    private var inputHeld = false
    /// The stream broke a limit while a request waited: answered after the queue.
    private var failure: ProtocolError?
    /// How many lines may queue behind a waiting request before reading stops.
    let maximumPending: Int

    /// A connection over TLS starts in ``Phase/handshaking``; a plaintext one ready.
    init(tls: Bool, maximumPending: Int) {
        phase = tls ? .handshaking : .ready
        self.maximumPending = maximumPending
    }

    /// Whether replies may be written.
    var canWrite: Bool { phase != .handshaking && phase != .closed }

    /// The lines waiting behind a request.
    var queuedCount: Int { queued.count }

    // MARK: - Events

    /// The TLS handshake completed.
    mutating func handshakeCompleted() {
        if phase == .handshaking { phase = .ready }
    }

    /// A line was decoded.
    mutating func lineDecoded(_ line: ByteBuffer) -> Action {
        switch phase {
        case .ready:
            return .answer(line)
        case .waiting:
            queued.append(line)
            return .none
        case .handshaking, .closing, .closed:
            return .none
        }
    }

    /// The session answered a line; `close` when it asked to close (QUIT).
    mutating func answered(close: Bool) -> Action {
        guard close else { return .none }
        return closeAfterReplies()
    }

    /// The session said the line's request must wait.
    mutating func requestMustWait() -> Action {
        guard phase == .ready else { return .none }
        phase = .waiting
        return .flushAndStartWait
    }

    /// The handler holds the rest of the input unsplit until the waiting request ends (a
    /// line behind a `BIND` is read with the limit the `BIND` sets): reading waits meanwhile.
    mutating func holdInput() {
        guard phase == .waiting else { return }
        inputHeld = true
    }

    /// The waiting request finished; `close` when its reply ends the connection. After
    /// ``Action/answerQueue`` the handler takes ``nextQueuedLine()`` until it returns `nil`,
    /// then reports ``queueAnswered(writable:)``.
    mutating func waitFinished(close: Bool) -> Action {
        guard phase == .waiting else { return .none }
        phase = .ready
        inputHeld = false
        return close ? closeAfterReplies() : .answerQueue
    }

    /// The next queued line to answer, while no request waits.
    mutating func nextQueuedLine() -> ByteBuffer? {
        guard phase == .ready else { return nil }
        return queued.popFirst()
    }

    /// The queue is answered as far as it goes (empty, or another request now waits).
    mutating func queueAnswered(writable: Bool) -> Action {
        guard phase == .ready || phase == .waiting else { return .none }
        if phase == .ready, let failure {
            self.failure = nil
            phase = .closing
            queued.removeAll()
            return .failAndClose(failure)
        }
        if phase == .ready, inputEnded, queued.isEmpty { return closeAfterReplies() }
        if readHeld, !mustHoldReads(writable: writable) {
            readHeld = false
            return .read
        }
        return .flush
    }

    /// The channel asks to read more.
    mutating func readRequested(writable: Bool) -> Action {
        if mustHoldReads(writable: writable) {
            readHeld = true
            return .none
        }
        return .read
    }

    /// The channel became writable or not.
    mutating func writabilityChanged(writable: Bool) -> Action {
        guard readHeld, !mustHoldReads(writable: writable) else { return .none }
        readHeld = false
        return .read
    }

    /// The client half-closed its side: answer what was sent, then close.
    mutating func inputClosed() -> Action {
        endInput()
    }

    /// The server is shutting down: finish the request in hand and what was read, read no
    /// more, and close.
    mutating func drain() -> Action {
        draining = true
        return endInput()
    }

    /// Nothing was read for the idle timeout.
    ///
    /// A connection whose request is still running (a batch of `ADD USER`s, each hashing a
    /// password, can take minutes) is not idle: the server is the one keeping it waiting.
    mutating func idleTimeout() -> Action {
        switch phase {
        case .handshaking:
            phase = .closed
            return .close
        case .waiting:
            return .none
        case .ready:
            phase = .closing
            queued.removeAll()
            return .idleAndClose
        case .closing, .closed:
            return .none
        }
    }

    /// The line decoder refused the stream (a line over the limit): answered after the lines
    /// already decoded, then the connection closes, since the rest can't be trusted.
    mutating func protocolError(_ error: ProtocolError) -> Action {
        switch phase {
        case .waiting:
            failure = error
            return .none
        case .ready, .handshaking:
            phase = .closing
            queued.removeAll()
            return .failAndClose(error)
        case .closing, .closed:
            return .none
        }
    }

    /// The handler is about to close after the last replies (QUIT, a refused connection).
    mutating func closeAfterReplies() -> Action {
        guard phase != .closing, phase != .closed else { return .none }
        phase = .closing
        queued.removeAll()
        return .closeAfterReplies
    }

    /// The channel is gone.
    mutating func channelInactive() {
        phase = .closed
        queued.removeAll()
    }

    // MARK: - Internals

    private mutating func endInput() -> Action {
        inputEnded = true
        switch phase {
        case .handshaking:
            // Nothing was asked and nothing can be written: close now.
            phase = .closed
            return .close
        case .ready:
            return queued.isEmpty ? closeAfterReplies() : .none
        case .waiting, .closing, .closed:
            return .none
        }
    }

    /// Reading waits while the queue is full, the client leaves its replies unread, or the
    /// server drains.
    private func mustHoldReads(writable: Bool) -> Bool {
        draining || (phase == .waiting && (inputHeld || queued.count >= maximumPending)) || !writable
    }
}
