@testable import DeputyCore
import Foundation
import Testing

/// Readers waiting for a revision of the published directory (`revision=` on queries).
@Suite("The live directory's revisions")
struct LiveDirectoryTests {
    /// The fixture directory, and the same with one more change.
    static func versions() -> (Directory, Directory) {
        var t = QueryTests.fixture()
        let before = t.directory
        t.expectApplied(.addDomain(DomainName("later.test")!), as: t.principal("admin"))
        return (before, t.directory)
    }

    @Test("a revision already published is reached at once; a later one once it is published")
    func waitsForThePublishedRevision() async {
        let (before, after) = Self.versions()
        #expect(after.revision == before.revision + 1)
        let live = LiveDirectory(before)
        #expect(await live.waitUntil(revision: before.revision, timeout: .milliseconds(1)))
        // Waiters registered before the publication and after it both see it.
        async let early = live.waitUntil(revision: after.revision, timeout: .seconds(60))
        async let earlier = live.waitUntil(revision: after.revision, timeout: .seconds(60))
        live.publish(after)
        async let late = live.waitUntil(revision: after.revision, timeout: .seconds(60))
        let answers = await [early, earlier, late]
        #expect(answers == [true, true, true])
    }

    @Test("a revision that is not published in time is not reached, and a later publication does not trip the expired waiter")
    func timesOut() async {
        let (before, after) = Self.versions()
        let live = LiveDirectory(before)
        let started = ContinuousClock.now
        #expect(await !live.waitUntil(revision: after.revision + 5, timeout: .milliseconds(50)))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        live.publish(after)
        #expect(await live.waitUntil(revision: after.revision, timeout: .milliseconds(1)))
    }
}
