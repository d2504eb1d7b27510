-- credit-tui team decision log, schema 3: what changes on top of schema 2 (audit_pg_schema_2.sql).
-- `credit-tui audit init --db URL` runs schemas 1, 2 then this script on a new log, and the missing steps
-- alone on an older log (the upgrade, run by an administrator, in one transaction). No record is
-- rewritten and no table changes: the same records get the same hashes with less server work per
-- decision (the team log is CPU-bound when many advisors record at once).
--
-- 1. decision_hash() builds the schema-1 text from the columns by name (as schema 1's SQL function did),
--    as one PL/pgSQL expression whose plan the session keeps, instead of a loop over
--    json_each_text(row_to_json(r)). row_to_json writes a bigint, a float8 (extra_float_digits = 1), a
--    boolean and a uuid with the same output functions as ::text, and json_each_text gives NULL for a
--    NULL: the bytes hashed, and so every existing hash, are unchanged (`audit verify` recomputes them).
--
-- 2. record_decision() runs three queries where it ran eight: the correction's client is only read for a
--    correction; after the chain lock, one query reads the chain head (id and hash), a retry's earlier
--    record id and the four-eyes level; the new row is built without a subquery; the hash is one
--    expression. Checks, lock, identity, retry and four-eyes rules are those of schema 2.
--
-- 3. confirm_durable() writes its WAL with a transactional logical message (pg_logical_emit_message,
--    an empty 'credit-tui' message) instead of an upsert of the role's row in credit_audit.confirmations:
--    the message gives the confirm's transaction an id and a WAL record, so its synchronous commit still
--    writes a commit record and returns only once the WAL is flushed past it (past the decision's commit
--    record too), without a row to update, lock or vacuum. The table is no longer needed.

CREATE OR REPLACE FUNCTION credit_audit.decision_hash(r credit_audit.decisions) RETURNS text
LANGUAGE plpgsql STABLE SET extra_float_digits = 1 AS $f$
DECLARE
    v1 text := encode(sha256(convert_to('credit-tui-audit-pg/1' || E'\n'
        || credit_audit.field(r.id::text) || credit_audit.field(r.time) || credit_audit.field(r.advisor)
        || credit_audit.field(r.client_id::text) || credit_audit.field(r.bundle_id)
        || credit_audit.field(r.threshold::text) || credit_audit.field(r.pd::text)
        || credit_audit.field(r.model_decision) || credit_audit.field(r.final_decision)
        || credit_audit.field(r.override::text) || credit_audit.field(r.justification)
        || credit_audit.field(r.reasons) || credit_audit.field(r.input_hash)
        || credit_audit.field(r.corrects::text) || credit_audit.field(r.pending::text)
        || credit_audit.field(r.request_id::text) || credit_audit.field(r.prev_hash), 'UTF8')), 'hex');
BEGIN
    IF r.override_code = '' AND r.terms = '' THEN
        RETURN v1;
    END IF;
    RETURN encode(sha256(convert_to('credit-tui-audit-pg/2' || E'\n' || credit_audit.field(v1)
        || credit_audit.field(r.override_code) || credit_audit.field(r.terms), 'UTF8')), 'hex');
END
$f$;

CREATE OR REPLACE FUNCTION credit_audit.record_decision(
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
    last_id bigint;
    last_hash text;
    retry_id bigint;
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
    IF p_corrects IS NOT NULL THEN
        SELECT client_id INTO earlier_client FROM decisions WHERE id = p_corrects;
        IF earlier_client IS DISTINCT FROM p_client_id THEN
            RAISE EXCEPTION '%', CASE WHEN earlier_client IS NULL
                THEN format('Record %s does not exist, so it cannot be corrected.', p_corrects)
                ELSE format('Record %s is about client %s, not client %s; a correction must concern the '
                            'same client.', p_corrects, earlier_client, p_client_id) END USING ERRCODE = '22023';
        END IF;
    END IF;
    -- Only the retry check and what needs the chain's previous record are under the lock. The lock is
    -- taken before the query that reads the head, so that query's snapshot sees every earlier commit.
    PERFORM pg_advisory_xact_lock(1129595221);  -- one writer at a time: one gap-free chain
    SELECT head.id, head.hash, (SELECT d.id FROM decisions d WHERE d.request_id = p_request_id),
           (SELECT value::double precision FROM meta WHERE key = 'four_eyes_pd')
        INTO last_id, last_hash, retry_id, level
        FROM (SELECT 1) AS one LEFT JOIN LATERAL
             (SELECT id, hash FROM decisions ORDER BY id DESC LIMIT 1) AS head ON true;
    IF retry_id IS NOT NULL THEN  -- a retry of a decision recorded before the connection was lost
        SELECT * INTO rec FROM decisions WHERE id = retry_id;
        IF rec.advisor <> who THEN
            RAISE EXCEPTION 'request % belongs to another advisor', p_request_id USING ERRCODE = '42501';
        END IF;
        RETURN rec;  -- recorded once
    END IF;
    is_override := p_model_decision <> 'REVIEW' AND p_final_decision <> p_model_decision;
    rec := ROW(  -- in the table's column order
        coalesce(last_id, 0) + 1, credit_audit.now_text(), who, p_client_id, p_bundle_id, p_threshold, p_pd,
        p_model_decision, p_final_decision, is_override, p_justification, p_reasons, p_input_hash,
        p_corrects, is_override OR (level IS NOT NULL AND p_pd > level), p_request_id,
        coalesce(last_hash, repeat('0', 64)), NULL, p_override_code, p_terms
    );
    rec.hash := credit_audit.decision_hash(rec);
    INSERT INTO decisions VALUES (rec.*);
    RETURN rec;
END
$f$;

CREATE OR REPLACE FUNCTION credit_audit.confirm_durable() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = credit_audit, pg_temp AS $f$
BEGIN
    IF current_setting('synchronous_commit') = 'off' THEN  -- this commit must wait for the flush
        PERFORM set_config('synchronous_commit', 'on', true);
    END IF;
    -- A WAL record in this transaction (and a transaction id): its commit waits for the flush.
    PERFORM pg_catalog.pg_logical_emit_message(true, 'credit-tui', '');
    RETURN 1;  -- the bigint of schema 2's signature (it returned a count)
END
$f$;

DROP TABLE credit_audit.confirmations;
