import Foundation
import Logging
import NIOCore
import PostgresNIO

/// One row of `deputy_log`, as the applier reads it.
struct LogRow: Sendable {
    let sequence: Int64
    let digest: [UInt8]
    let body: [UInt8]
    let requestID: UUID
    /// When the append wrote the row (the primary's clock), for the lag metric.
    let written: Date
}

/// The head of the log: the last sequence and the chain digest there.
struct LogHead: Sendable, Equatable {
    let sequence: Int64
    let digest: [UInt8]
}

/// A shared snapshot as stored.
struct StoredSnapshot: Sendable {
    let sequence: Int64
    let digest: [UInt8]
    let sha256: [UInt8]
    let body: [UInt8]
}

/// How far the primary has flushed its WAL, and how far its synchronous standbys have.
struct ReplicationPosition: Sendable {
    /// The primary's flushed WAL position (bytes from `0/0`): at or past the end of every
    /// commit this session has made.
    let flushed: Int64
    /// The furthest position a synchronous (or quorum) standby has reported flushed; `nil`
    /// while none is attached.
    let standbyFlushed: Int64?
    /// Whether `synchronous_standby_names` names a standby, as this session sees it (a
    /// session reloads the configuration before each statement).
    let synchronousConfigured: Bool

    /// Whether a synchronous standby holds everything up to `position`.
    func standbyHolds(_ position: Int64) -> Bool {
        standbyFlushed.map { $0 >= position } ?? false
    }
}

/// A server process of one session, named so that a reused pid is not taken for it.
struct SessionBackend: Sendable, Hashable {
    let pid: Int32
    /// When the process started, in microseconds since the epoch (the server's clock).
    let started: Int64
}

/// The SQL a node runs, one function per statement. Byte strings are bound as `ByteBuffer`
/// (`bytea`), never as `[UInt8]`, which postgres-nio binds as `"char"[]`.
extension PostgresConnection {
    func isInRecovery(logger: Logger) async throws -> Bool {
        for try await value in try await query("SELECT pg_is_in_recovery()", logger: logger).decode(Bool.self) { return value }
        throw ClusterError(.unavailable, "pg_is_in_recovery() returned no row")
    }

    /// The schema version, or `nil` when the schema has not been created.
    func schemaVersion(logger: Logger) async throws -> Int? {
        for try await exists in try await query("SELECT to_regclass('deputy_schema') IS NOT NULL", logger: logger).decode(Bool.self) {
            guard exists else { return nil }
        }
        for try await version in try await query("SELECT max(version) FROM deputy_schema", logger: logger).decode(Int?.self) { return version }
        return nil
    }

    /// Throws unless the schema is the version this program knows.
    func requireSchema(logger: Logger) async throws {
        let found = try await schemaVersion(logger: logger)
        guard found == ClusterSchema.version else {
            throw ClusterError(
                .incompatible,
                found.map { "the database holds cluster schema version \($0); this deputyd knows version \(ClusterSchema.version)" }
                    ?? "the database has no Deputy cluster schema; run deputyd cluster init first"
            )
        }
    }

    /// Appends `bodies` with `ids` in one transaction; each input's sequence, in order.
    func append(_ bodies: [[UInt8]], ids: [UUID], node: String, logger: Logger) async throws -> [Int64] {
        for try await sequences in try await execute(AppendStatement(bodies: bodies.map { ByteBuffer(bytes: $0) }, ids: ids, node: node), logger: logger) {
            guard sequences.count == ids.count else { break }
            return sequences
        }
        throw ClusterError(.indeterminate, "deputy_append returned no sequence for each record")
    }

    /// Where the primary's WAL and its synchronous standbys stand (``ReplicationPosition``).
    /// Reading the standbys' positions needs `pg_monitor` (``requireReplicationStatistics(user:logger:)``).
    func replicationPosition(logger: Logger) async throws -> ReplicationPosition {
        for try await (flushed, standby, configured) in try await execute(ReplicationPositionStatement(), logger: logger) {
            return ReplicationPosition(flushed: flushed, standbyFlushed: standby, synchronousConfigured: configured)
        }
        throw ClusterError(.unavailable, "the primary's replication position returned no row")
    }

    /// Throws unless this session's role may read the standbys' positions in
    /// `pg_stat_replication`, by which a writer confirms each append on the synchronous
    /// standby: without `pg_monitor` (or `pg_read_all_stats`) PostgreSQL shows them as null.
    func requireReplicationStatistics(user: String, logger: Logger) async throws {
        for try await allowed in try await query("SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')", logger: logger).decode(Bool.self) {
            guard allowed else {
                throw ClusterError(
                    .incompatible,
                    "the role \(user) may not read the standbys' positions in pg_stat_replication, by which each write is confirmed on the synchronous standby: as a superuser, GRANT pg_monitor TO \(user)"
                )
            }
            return
        }
    }

    /// Whether this session's commits wait for a synchronous standby, as `deputy_append`
    /// requires of every append (the same test as its own): a server just promoted by hand
    /// names none until the operator gives it one.
    func waitsForSynchronousStandby(logger: Logger) async throws -> Bool {
        let rows = try await query(
            "SELECT current_setting('synchronous_commit') IN ('on', 'remote_apply') AND current_setting('synchronous_standby_names') <> ''", logger: logger
        ).decode(Bool.self)
        for try await waits in rows { return waits }
        return false
    }

    /// The other sessions on this server whose application name is `name`, each as the
    /// client's address and port (`local` over a Unix socket).
    func sessions(named name: String, except pid: Int32, logger: Logger) async throws -> [String] {
        let rows = try await query(
            "SELECT coalesce(host(client_addr) || ':' || client_port, 'local') FROM pg_stat_activity WHERE application_name = \(name) AND pid <> \(pid)",
            logger: logger
        ).decode(String.self)
        var found: [String] = []
        for try await client in rows { found.append(client) }
        return found
    }

    /// This session's server process: its pid and when it started (microseconds since the
    /// epoch), which together name it on this server even after the pid is reused.
    func backend(logger: Logger) async throws -> SessionBackend {
        let rows = try await query(
            "SELECT pid, (extract(epoch FROM backend_start) * 1000000)::int8 FROM pg_stat_activity WHERE pid = pg_backend_pid()", logger: logger
        ).decode((Int32, Int64).self)
        for try await (pid, started) in rows { return SessionBackend(pid: pid, started: started) }
        throw ClusterError(.unavailable, "pg_stat_activity does not show this session")
    }

    /// Ends `backend`'s session if it is still on this server, and waits until its process
    /// has exited (up to `timeout`): from then on nothing it was sent can commit. Returns
    /// whether nothing it was sent can commit unseen any more: it is gone (a session this
    /// server does not have ended, or was on another server), or it is waiting for the
    /// synchronous standby, past its commit and holding the head lock that `deputy_resolve`
    /// waits for. Such a session is left to finish: ended, it would let its rows be read
    /// before the standby has them.
    func endSession(_ backend: SessionBackend, timeout: Duration, logger: Logger) async throws -> Bool {
        let milliseconds = Int64(max(1, timeout.milliseconds))
        let rows = try await query(
            """
            SELECT pg_terminate_backend(pid, \(milliseconds)) FROM pg_stat_activity
            WHERE pid = \(backend.pid) AND (extract(epoch FROM backend_start) * 1000000)::int8 = \(backend.started)
              AND wait_event IS DISTINCT FROM 'SyncRep'
            """,
            logger: logger
        ).decode(Bool.self)
        for try await ended in rows { return ended }
        return true
    }

    /// The sequence of each request id in the log, `nil` where it is not there. Waits for
    /// an append still in flight (up to `lock_timeout`).
    func resolve(_ ids: [UUID], logger: Logger) async throws -> [Int64?] {
        var found: [Int64?] = []
        for try await sequence in try await query("SELECT s FROM unnest(deputy_resolve(\(ids))) AS s", logger: logger).decode(Int64?.self) {
            found.append(sequence)
        }
        guard found.count == ids.count else { throw ClusterError(.indeterminate, "deputy_resolve returned \(found.count) answers for \(ids.count) ids") }
        return found
    }

    /// Up to `limit` rows after `sequence`, in order.
    func rows(after sequence: Int64, limit: Int, logger: Logger) async throws -> [LogRow] {
        var rows: [LogRow] = []
        for try await (seq, digest, body, id, written) in try await execute(RowsAfterStatement(after: sequence, limit: Int64(limit)), logger: logger) {
            rows.append(LogRow(sequence: seq, digest: Array(buffer: digest), body: Array(buffer: body), requestID: id, written: Date(timeIntervalSince1970: written)))
        }
        return rows
    }

    func head(logger: Logger) async throws -> LogHead {
        for try await (seq, digest) in try await query("SELECT seq, digest FROM deputy_head", logger: logger).decode((Int64, ByteBuffer).self) {
            return LogHead(sequence: seq, digest: Array(buffer: digest))
        }
        throw ClusterError(.incompatible, "the log has no head row; run deputyd cluster init first")
    }

    /// The chain digest the log holds at `sequence`: from its row, from a shared snapshot
    /// there, or from the head; `nil` when none of them has it (retention removed it, or
    /// the log is shorter).
    func digest(at sequence: Int64, logger: Logger) async throws -> [UInt8]? {
        let result = try await query(
            """
            SELECT digest FROM deputy_log WHERE seq = \(sequence)
            UNION ALL SELECT digest FROM deputy_snapshot WHERE seq = \(sequence)
            UNION ALL SELECT digest FROM deputy_head WHERE seq = \(sequence)
            LIMIT 1
            """,
            logger: logger
        )
        for try await digest in result.decode(ByteBuffer.self) { return Array(buffer: digest) }
        return nil
    }

    /// The smallest sequence still in the log, `nil` when it is empty.
    func oldestRow(logger: Logger) async throws -> Int64? {
        for try await value in try await query("SELECT min(seq) FROM deputy_log", logger: logger).decode(Int64?.self) { return value }
        return nil
    }

    /// The newest shared snapshot.
    func newestSnapshot(logger: Logger) async throws -> StoredSnapshot? {
        let result = try await query("SELECT seq, digest, sha256, body FROM deputy_snapshot ORDER BY seq DESC LIMIT 1", logger: logger)
        for try await (seq, digest, sha, body) in result.decode((Int64, ByteBuffer, ByteBuffer, ByteBuffer).self) {
            return StoredSnapshot(sequence: seq, digest: Array(buffer: digest), sha256: Array(buffer: sha), body: Array(buffer: body))
        }
        return nil
    }

    /// The sequence of the newest shared snapshot and how long ago it was stored, by the
    /// server's clock (the clock that stamped it).
    func newestSnapshotAge(logger: Logger) async throws -> (sequence: Int64, age: Duration)? {
        let result = try await query("SELECT seq, (extract(epoch FROM now() - created) * 1000)::bigint FROM deputy_snapshot ORDER BY seq DESC LIMIT 1", logger: logger)
        for try await (sequence, milliseconds) in result.decode((Int64, Int64).self) {
            return (sequence, .milliseconds(milliseconds))
        }
        return nil
    }

    /// The sequence of the newest shared snapshot.
    func newestSnapshotSequence(logger: Logger) async throws -> Int64? {
        for try await value in try await query("SELECT max(seq) FROM deputy_snapshot", logger: logger).decode(Int64?.self) { return value }
        return nil
    }

    /// Stores a shared snapshot; the number of log rows retention removed.
    @discardableResult
    func putSnapshot(at sequence: Int64, digest: [UInt8], body: [UInt8], node: String, logger: Logger) async throws -> Int64 {
        let digestBuffer = ByteBuffer(bytes: digest)
        let bodyBuffer = ByteBuffer(bytes: body)
        for try await removed in try await query(
            "SELECT deputy_put_snapshot(\(sequence), \(digestBuffer), \(bodyBuffer), \(node))", logger: logger
        ).decode(Int64.self) {
            return removed
        }
        return 0
    }

    /// Records this node's progress for operators.
    func report(node: String, applied: Int64, digest: [UInt8], logger: Logger) async throws {
        let digestBuffer = ByteBuffer(bytes: digest)
        try await query(
            """
            INSERT INTO deputy_node (name, applied, applied_digest, seen) VALUES (\(node), \(applied), \(digestBuffer), now())
            ON CONFLICT (name) DO UPDATE SET applied = EXCLUDED.applied, applied_digest = EXCLUDED.applied_digest, seen = EXCLUDED.seen
            """,
            logger: logger
        )
    }

    /// Runs `sql` with no parameters, discarding rows.
    func execute(_ sql: String, logger: Logger) async throws {
        try await query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }
}

// The two statements every write runs, on every node: prepared once a connection, so that
// PostgreSQL parses and plans them once rather than for each append and each catch-up.

/// `deputy_append`: the records of one group commit.
private struct AppendStatement: PostgresPreparedStatement {
    static let sql = "SELECT deputy_append($1, $2, $3)"
    typealias Row = [Int64]

    let bodies: [ByteBuffer]
    let ids: [UUID]
    let node: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(bodies)
        bindings.append(ids)
        bindings.append(node)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The primary's flushed WAL position, the furthest a synchronous standby has flushed, and
/// whether synchronous replication is configured: the check after each append (positions
/// as bytes from `0/0`).
private struct ReplicationPositionStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::int8,
               (SELECT max(flush_lsn - '0/0'::pg_lsn) FROM pg_stat_get_wal_senders() WHERE sync_state IN ('sync', 'quorum'))::int8,
               current_setting('synchronous_standby_names') <> ''
        """
    typealias Row = (Int64, Int64?, Bool)

    func makeBindings() throws -> PostgresBindings { PostgresBindings() }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The rows after a sequence, in order: one catch-up's read.
private struct RowsAfterStatement: PostgresPreparedStatement {
    static let sql = "SELECT seq, digest, body, request_id, extract(epoch FROM written)::float8 FROM deputy_log WHERE seq > $1 ORDER BY seq LIMIT $2"
    typealias Row = (Int64, ByteBuffer, ByteBuffer, UUID, Double)

    let after: Int64
    let limit: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(after)
        bindings.append(limit)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
