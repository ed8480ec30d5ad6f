import DeputyCore
import DeputyServer
import Foundation
import Synchronization

/// A ``LoginRecorder`` that keeps what it is given, for tests to read.
final class CollectingLoginRecorder: LoginRecorder {
    struct Record: Hashable, Sendable {
        let attempt: LoginAttempt
        let lock: LoginThrottle.Lock?
    }

    private let records = Mutex<[Record]>([])

    func recordFailure(_ attempt: LoginAttempt, judged: Bool, lock: LoginThrottle.Lock?, at time: Date) async {
        records.withLock { $0.append(Record(attempt: attempt, lock: lock)) }
    }

    var all: [Record] { records.withLock { $0 } }
}
