/// The tables and functions the cluster keeps in PostgreSQL, versioned.
///
/// `deputyd cluster init` creates them in one transaction; every node checks
/// ``version`` against `deputy_schema` before it reads or appends anything, so a node never
/// runs against a schema it does not know.
///
/// The log is gap-free: appends go through `deputy_append`, which takes a one-row lock on
/// the head, so sequences are handed out in commit order and a rolled-back append frees its
/// numbers. A plain `bigserial` would let a reader see sequence 11 commit before 10 and skip
/// 10 for good. Each record carries `digest = sha256(previous digest || body)`, a hash chain
/// that lets a node check, after any reconnect or failover, that what it applied is still a
/// prefix of the log.
public enum ClusterSchema {
    /// The schema version this program creates and reads.
    public static let version = 1

    /// The channel `deputy_append` notifies on; a constant, because postgres-nio puts it
    /// into `LISTEN` unquoted.
    static let channel = "deputy_log"

    /// The statements, in order, run in one transaction.
    public static let statements: [String] = [
        """
        CREATE TABLE deputy_schema (version int NOT NULL)
        """,
        "INSERT INTO deputy_schema VALUES (\(version))",
        // The head of the log: exactly one row, locked by every append.
        """
        CREATE TABLE deputy_head (
            one     boolean PRIMARY KEY DEFAULT true CHECK (one),
            seq     bigint  NOT NULL CHECK (seq >= 0),
            digest  bytea   NOT NULL CHECK (length(digest) = 32)
        )
        """,
        """
        CREATE TABLE deputy_log (
            seq         bigint      PRIMARY KEY,
            digest      bytea       NOT NULL CHECK (length(digest) = 32),
            body        bytea       NOT NULL,
            request_id  uuid        NOT NULL UNIQUE,
            node        text        NOT NULL,
            written     timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """,
        // Shared snapshots: deterministic bytes at seq, the chain digest at seq (to check it
        // against the log) and sha256(body) (to check the bytes).
        """
        CREATE TABLE deputy_snapshot (
            seq      bigint      PRIMARY KEY,
            digest   bytea       NOT NULL CHECK (length(digest) = 32),
            sha256   bytea       NOT NULL CHECK (length(sha256) = 32),
            body     bytea       NOT NULL,
            node     text        NOT NULL,
            created  timestamptz NOT NULL DEFAULT now(),
            CHECK (sha256 = sha256(body))
        )
        """,
        // Compressed with lz4 where the server has it: a snapshot is written to the WAL and
        // sent to the synchronous standby, and every commit after it waits until the standby
        // has all of it, so its size is a pause in the writes. lz4 makes the directory's
        // JSON several times smaller for little CPU. Without lz4 (a server built without
        // it), out of line and uncompressed: pglz over tens of MiB costs more than it saves.
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
                -- EXECUTE: a server older than 14 would refuse the block at parse time.
                EXECUTE 'ALTER TABLE deputy_snapshot ALTER COLUMN body SET COMPRESSION lz4';
            ELSE
                ALTER TABLE deputy_snapshot ALTER COLUMN body SET STORAGE EXTERNAL;
            END IF;
        END $$
        """,
        // Each node's progress, for operators and divergence reports.
        """
        CREATE TABLE deputy_node (
            name            text PRIMARY KEY,
            applied         bigint NOT NULL,
            applied_digest  bytea NOT NULL,
            seen            timestamptz NOT NULL
        )
        """,
        // Appends a batch (group commit): bodies[i] with request id ids[i]. Returns each
        // input's sequence, in input order; a request id already in the log keeps its
        // sequence (a retried write is idempotent). One transaction, one head lock, one
        // commit and so one wait for the synchronous standby, one notification.
        """
        CREATE FUNCTION deputy_append(bodies bytea[], ids uuid[], writer text) RETURNS bigint[]
        LANGUAGE plpgsql AS $$
        DECLARE
            head_seq    bigint;
            head_digest bytea;
            seqs        bigint[] := '{}';
            existing    bigint;
            appended    int := 0;
        BEGIN
            IF cardinality(bodies) IS NULL OR cardinality(bodies) = 0
               OR cardinality(bodies) IS DISTINCT FROM cardinality(ids) THEN
                RAISE EXCEPTION 'deputy_append: bodies and ids must be non-empty arrays of one length'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF array_position(bodies, NULL) IS NOT NULL OR array_position(ids, NULL) IS NOT NULL THEN
                RAISE EXCEPTION 'deputy_append: null body or request id' USING ERRCODE = 'null_value_not_allowed';
            END IF;
            -- An acknowledged append must be on a synchronous standby: refuse when this
            -- session would not wait for one (also when a failover manager has emptied
            -- synchronous_standby_names).
            IF current_setting('synchronous_commit') NOT IN ('on', 'remote_apply')
               OR current_setting('synchronous_standby_names') = '' THEN
                RAISE EXCEPTION 'deputy_append: no synchronous replication (synchronous_commit=%, synchronous_standby_names=%)',
                    current_setting('synchronous_commit'), current_setting('synchronous_standby_names')
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            -- Appenders queue here until the previous append's transaction has ended.
            SELECT seq, digest INTO head_seq, head_digest FROM deputy_head FOR UPDATE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'deputy_append: the log is not initialised' USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            FOR i IN 1 .. cardinality(bodies) LOOP
                SELECT seq INTO existing FROM deputy_log WHERE request_id = ids[i];
                IF FOUND THEN
                    seqs := seqs || existing;
                    CONTINUE;
                END IF;
                head_seq := head_seq + 1;
                head_digest := sha256(head_digest || bodies[i]);
                INSERT INTO deputy_log (seq, digest, body, request_id, node)
                VALUES (head_seq, head_digest, bodies[i], ids[i], writer);
                seqs := seqs || head_seq;
                appended := appended + 1;
            END LOOP;
            IF appended > 0 THEN
                UPDATE deputy_head SET seq = head_seq, digest = head_digest;
                -- Only a wake-up, delivered at commit: readers read the table.
                PERFORM pg_notify('deputy_log', head_seq::text);
            END IF;
            RETURN seqs;
        END $$
        """,
        // Resolves request ids after a connection loss: the sequence of each, NULL when it is
        // not in the log. The head lock first waits for an append still in flight; locking
        // the row gives this transaction an id, so its commit waits for the synchronous
        // standby to hold everything before it. Once it returns, a NULL is final.
        """
        CREATE FUNCTION deputy_resolve(ids uuid[]) RETURNS bigint[]
        LANGUAGE plpgsql AS $$
        DECLARE
            seqs bigint[] := '{}';
            s    bigint;
        BEGIN
            PERFORM 1 FROM deputy_head FOR UPDATE;
            FOR i IN 1 .. coalesce(cardinality(ids), 0) LOOP
                SELECT seq INTO s FROM deputy_log WHERE request_id = ids[i];
                seqs := seqs || s;
            END LOOP;
            RETURN seqs;
        END $$
        """,
        // Stores a shared snapshot (duplicates of the same bytes are harmless) and applies
        // the retention rule: log rows at or below the second-newest snapshot go, so a node
        // one snapshot behind can still catch up from the log. Refuses a snapshot whose chain
        // digest does not match the log.
        """
        CREATE FUNCTION deputy_put_snapshot(at_seq bigint, chain_digest bytea, snapshot bytea, writer text)
        RETURNS bigint
        LANGUAGE plpgsql AS $$
        DECLARE
            logged  bytea;
            cutoff  bigint;
            removed bigint;
        BEGIN
            IF at_seq > (SELECT seq FROM deputy_head) THEN
                RAISE EXCEPTION 'deputy_put_snapshot: % is beyond the head', at_seq USING ERRCODE = 'invalid_parameter_value';
            END IF;
            SELECT digest INTO logged FROM deputy_log WHERE seq = at_seq;
            IF FOUND AND logged <> chain_digest THEN
                RAISE EXCEPTION 'deputy_put_snapshot: digest at % does not match the log', at_seq USING ERRCODE = 'data_corrupted';
            END IF;
            INSERT INTO deputy_snapshot (seq, digest, sha256, body, node)
            VALUES (at_seq, chain_digest, sha256(snapshot), snapshot, writer)
            ON CONFLICT (seq) DO NOTHING;
            SELECT seq INTO cutoff FROM deputy_snapshot ORDER BY seq DESC OFFSET 1 LIMIT 1;
            IF cutoff IS NULL THEN RETURN 0; END IF;
            DELETE FROM deputy_log WHERE seq <= cutoff;
            GET DIAGNOSTICS removed = ROW_COUNT;
            DELETE FROM deputy_snapshot WHERE seq < cutoff;
            RETURN removed;
        END $$
        """,
    ]
}
