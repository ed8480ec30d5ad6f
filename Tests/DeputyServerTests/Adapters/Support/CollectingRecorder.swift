import DeputyMailAdapters
import DeputyCore
import DeputyServer
import Foundation
import Synchronization

/// A ``DelegatedSendRecorder`` that keeps what it is given, for tests to read, and passes
/// it on to `next` (the daemon's recorder, in the listener tests).
final class CollectingRecorder: DelegatedSendRecorder {
    struct Record: Hashable, Sendable {
        let login: String
        let sender: String
        let grant: DelegatedSendGrant
        let time: Date
    }

    private let records = Mutex<[Record]>([])
    private let next: (any DelegatedSendRecorder)?

    init(next: (any DelegatedSendRecorder)? = nil) {
        self.next = next
    }

    func record(login: EmailAddress, sender: EmailAddress, delegation: DelegatedSendGrant, at time: Date) async {
        records.withLock { $0.append(Record(login: login.value, sender: sender.value, grant: delegation, time: time)) }
        await next?.record(login: login, sender: sender, delegation: delegation, at: time)
    }

    var all: [Record] { records.withLock { $0 } }
}
