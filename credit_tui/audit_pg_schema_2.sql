-- credit-tui team decision log, schema 2: what changes on top of schema 1 (audit_pg_schema.sql).
-- `credit-tui audit init --db URL` runs schema 1 then this script on a new log, and this script alone on a
-- schema-1 log (the upgrade, run by an administrator, in one transaction). No record is rewritten.
--
-- 1. Real columns for the reason code (override_code) and the terms decided on (terms). Schema 1 packed
--    them into the end of the justification; those records keep their text and their hash (the app still
--    reads them back from it). A record's hash is the schema-1 hash when both columns are empty; otherwise
--    SHA-256 over 'credit-tui-audit-pg/2', its schema-1 hash, the code and the terms (mirrored in Python).
--
-- 2. A durable acknowledgement that does not hold the chain lock across a disk flush. The app calls
--    record_decision (and review_decision) in a transaction with SET LOCAL synchronous_commit = off, so
--    its commit releases the advisory lock as soon as the commit record is inserted into the WAL, without
--    waiting for the flush. In the same round trip, before it acknowledges anything, it calls
--    credit_audit.confirm_durable(): a synchronous-commit transaction that writes WAL, whose commit
--    returns only once the WAL is flushed up to its own commit record. That record lies after the
--    decision's (same session, later), and the WAL is flushed in order, so the decision is on disk. The
--    confirms of concurrent advisors share one flush (group commit). After a crash the WAL is replayed in
--    order up to the last flushed record: a chain record can only survive when every record before it
--    does (each took the lock after the previous commit record was inserted), so a crash may drop the
--    newest unacknowledged decisions, never an acknowledged one, and never leaves a gap. Called alone
--    (e.g. from psql), the functions commit synchronously as before.

ALTER TABLE credit_audit.decisions
    ADD COLUMN override_code text NOT NULL DEFAULT '',
    ADD COLUMN terms         text NOT NULL DEFAULT '';

-- The same text as schema 1's decision_hash() (every column before hash, in table order), built in
-- PL/pgSQL, whose plans a session keeps: schema 1's SQL function was planned again on every call (0.3 ms
-- of the 0.5 ms record_decision spent under the chain lock).
CREATE OR REPLACE FUNCTION credit_audit.decision_hash(r credit_audit.decisions) RETURNS text
LANGUAGE plpgsql STABLE SET extra_float_digits = 1 AS $f$
DECLARE
    body text := '';
    col record;
    v1 text;
BEGIN
    FOR col IN SELECT key, value FROM json_each_text(row_to_json(r)) LOOP
        EXIT WHEN col.key = 'hash';
        body := body || credit_audit.field(col.value);
    END LOOP;
    v1 := encode(sha256(convert_to('credit-tui-audit-pg/1' || E'\n' || body, 'UTF8')), 'hex');
    IF r.override_code = '' AND r.terms = '' THEN
        RETURN v1;
    END IF;
    RETURN encode(sha256(convert_to('credit-tui-audit-pg/2' || E'\n' || credit_audit.field(v1)
        || credit_audit.field(r.override_code) || credit_audit.field(r.terms), 'UTF8')), 'hex');
END
$f$;

-- One row per role: the row a confirm rewrites, so that its transaction writes WAL and must flush it.
CREATE TABLE credit_audit.confirmations (
    role  text PRIMARY KEY,
    count bigint NOT NULL
);

CREATE FUNCTION credit_audit.confirm_durable() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = credit_audit, pg_temp AS $f$
DECLARE
    n bigint;
BEGIN
    IF current_setting('synchronous_commit') = 'off' THEN  -- this commit must wait for the flush
        PERFORM set_config('synchronous_commit', 'on', true);
    END IF;
    INSERT INTO confirmations AS c VALUES (session_user, 1)
        ON CONFLICT (role) DO UPDATE SET count = c.count + 1 RETURNING count INTO n;
    RETURN n;
END
$f$;

DROP FUNCTION credit_audit.record_decision(
    bigint, text, double precision, double precision, text, text, text, text, text, bigint, uuid
);

CREATE FUNCTION credit_audit.record_decision(
    p_client_id bigint, p_bundle_id text, p_threshold double precision, p_pd double precision,
    p_model_decision text, p_final_decision text, p_justification text, p_reasons text,
    p_input_hash text, p_corrects bigint, p_request_id uuid, p_override_code text, p_terms text
) RETURNS credit_audit.decisions
LANGUAGE plpgsql SECURITY DEFINER SET search_path = credit_audit, pg_temp SET extra_float_digits = 1
AS $f$
DECLARE
    rec credit_audit.decisions;
    earlier_client bigint;
    level double precision;
    next_id bigint;
    is_override boolean;
    who text := session_user;
BEGIN
    IF NOT pg_has_role(who, 'credit_advisor', 'MEMBER') THEN
        RAISE EXCEPTION 'role % is not a credit advisor (a member of credit_advisor)', who USING ERRCODE = '42501';
    END IF;
    IF concat(p_justification, p_bundle_id, p_override_code, p_terms) ~ '[[:cntrl:]]'
       OR p_reasons ~ '[\x01-\x1f\x7f]' THEN
        RAISE EXCEPTION 'Control characters are not allowed in a decision.' USING ERRCODE = '22023';
    END IF;
    IF (p_model_decision = 'REVIEW' OR p_final_decision <> p_model_decision)
       AND (credit_audit.words(p_justification) < 3 OR p_override_code = '') THEN
        RAISE EXCEPTION 'A justification of at least 3 words and a reason code are required for an override or a REVIEW case.'
            USING ERRCODE = '22023';
    END IF;
    IF length(p_terms) > 4000 THEN
        RAISE EXCEPTION 'The terms decided on are too long (% characters).', length(p_terms) USING ERRCODE = '22023';
    END IF;
    SELECT client_id INTO earlier_client FROM decisions WHERE id = p_corrects;
    IF p_corrects IS NOT NULL AND earlier_client IS DISTINCT FROM p_client_id THEN
        RAISE EXCEPTION '%', CASE WHEN earlier_client IS NULL
            THEN format('Record %s does not exist, so it cannot be corrected.', p_corrects)
            ELSE format('Record %s is about client %s, not client %s; a correction must concern the same '
                        'client.', p_corrects, earlier_client, p_client_id) END USING ERRCODE = '22023';
    END IF;
    SELECT value::double precision INTO level FROM meta WHERE key = 'four_eyes_pd';
    -- Only the retry check and what needs the chain's previous record are under the lock.
    PERFORM pg_advisory_xact_lock(1129595221);  -- one writer at a time: one gap-free chain
    SELECT * INTO rec FROM decisions WHERE request_id = p_request_id;
    IF FOUND AND rec.advisor <> who THEN
        RAISE EXCEPTION 'request % belongs to another advisor', p_request_id USING ERRCODE = '42501';
    ELSIF FOUND THEN  -- a retry of a decision recorded before the connection was lost: recorded once
        RETURN rec;
    END IF;
    SELECT coalesce(max(id), 0) + 1 INTO next_id FROM decisions;
    is_override := p_model_decision <> 'REVIEW' AND p_final_decision <> p_model_decision;
    rec := ROW(  -- in the table's column order
        next_id, credit_audit.now_text(), who, p_client_id, p_bundle_id, p_threshold, p_pd,
        p_model_decision, p_final_decision, is_override, p_justification, p_reasons, p_input_hash,
        p_corrects, is_override OR (level IS NOT NULL AND p_pd > level), p_request_id,
        coalesce((SELECT hash FROM decisions WHERE id = next_id - 1), repeat('0', 64)), NULL,
        p_override_code, p_terms
    );
    rec.hash := credit_audit.decision_hash(rec);
    INSERT INTO decisions VALUES (rec.*);
    RETURN rec;
END
$f$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA credit_audit FROM PUBLIC;
GRANT EXECUTE ON FUNCTION credit_audit.record_decision(
    bigint, text, double precision, double precision, text, text, text, text, text, bigint, uuid, text, text
) TO credit_advisor;
GRANT EXECUTE ON FUNCTION credit_audit.confirm_durable() TO credit_advisor;
GRANT EXECUTE ON FUNCTION credit_audit.review_decision(bigint, text, text) TO credit_supervisor;

-- Records up to here may carry a packed reason code and terms at the end of their justification.
INSERT INTO credit_audit.meta (key, value)
    SELECT 'packed_until', coalesce(max(id), 0)::text FROM credit_audit.decisions;
