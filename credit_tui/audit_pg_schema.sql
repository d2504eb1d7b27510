-- credit-tui team decision log (schema version 1), created by `credit-tui audit init --db URL`.
-- The two decision CHECK constraints are filled in from trainer.decision.Decision by schema_sql().
-- Run by an administrator; advisors (members of credit_advisor) get SELECT and EXECUTE only: they record
-- through credit_audit.record_decision, a SECURITY DEFINER function that takes the advisor from
-- session_user and computes the hash chain on the server under one lock (one gap-free chain).

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'credit_advisor') THEN
        CREATE ROLE credit_advisor NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'credit_supervisor') THEN
        CREATE ROLE credit_supervisor NOLOGIN IN ROLE credit_advisor;
    END IF;
END
$roles$;

CREATE SCHEMA credit_audit;
REVOKE ALL ON SCHEMA credit_audit FROM PUBLIC;

CREATE TABLE credit_audit.meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE credit_audit.decisions (
    id             bigint PRIMARY KEY,
    time           text NOT NULL,
    advisor        text NOT NULL,
    client_id      bigint NOT NULL,
    bundle_id      text NOT NULL,
    threshold      double precision NOT NULL CHECK (threshold >= 0 AND threshold <= 1),
    pd             double precision NOT NULL CHECK (pd >= 0 AND pd <= 1),
    model_decision text NOT NULL {model_decision_check},
    final_decision text NOT NULL {final_decision_check},
    override       boolean NOT NULL,
    justification  text NOT NULL,
    reasons        text NOT NULL,
    input_hash     text NOT NULL,
    corrects       bigint REFERENCES credit_audit.decisions (id),
    pending        boolean NOT NULL,
    request_id     uuid NOT NULL UNIQUE,
    prev_hash      text NOT NULL,
    hash           text NOT NULL UNIQUE
);
CREATE INDEX decisions_client ON credit_audit.decisions (client_id, id);
CREATE INDEX decisions_time ON credit_audit.decisions (time);

CREATE TABLE credit_audit.reviews (
    id            bigint PRIMARY KEY,
    decision_id   bigint NOT NULL UNIQUE REFERENCES credit_audit.decisions (id),
    time          text NOT NULL,
    approver      text NOT NULL,
    verdict       text NOT NULL CHECK (verdict IN ('APPROVED', 'REJECTED')),
    justification text NOT NULL,
    prev_hash     text NOT NULL,
    hash          text NOT NULL UNIQUE
);

CREATE FUNCTION credit_audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % is refused; record a correction instead', TG_OP
        USING ERRCODE = '42501';
END
$f$;
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON credit_audit.decisions
    FOR EACH ROW EXECUTE FUNCTION credit_audit.refuse_change();
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON credit_audit.decisions
    FOR EACH STATEMENT EXECUTE FUNCTION credit_audit.refuse_change();
CREATE TRIGGER reviews_append_only BEFORE UPDATE OR DELETE ON credit_audit.reviews
    FOR EACH ROW EXECUTE FUNCTION credit_audit.refuse_change();
CREATE TRIGGER reviews_no_truncate BEFORE TRUNCATE ON credit_audit.reviews
    FOR EACH STATEMENT EXECUTE FUNCTION credit_audit.refuse_change();

-- One field of a hashed record: "length:value\n", or "-\n" for NULL (unambiguous; mirrored in Python).
CREATE FUNCTION credit_audit.field(v text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
    SELECT CASE WHEN v IS NULL THEN '-' ELSE length(v)::text || ':' || v END || E'\n'
$f$;

CREATE FUNCTION credit_audit.decision_hash(r credit_audit.decisions) RETURNS text
LANGUAGE sql STABLE SET extra_float_digits = 1 AS $f$
    SELECT encode(sha256(convert_to('credit-tui-audit-pg/1' || E'\n'
        || credit_audit.field(r.id::text) || credit_audit.field(r.time) || credit_audit.field(r.advisor)
        || credit_audit.field(r.client_id::text) || credit_audit.field(r.bundle_id)
        || credit_audit.field(r.threshold::text) || credit_audit.field(r.pd::text)
        || credit_audit.field(r.model_decision) || credit_audit.field(r.final_decision)
        || credit_audit.field(r.override::text) || credit_audit.field(r.justification)
        || credit_audit.field(r.reasons) || credit_audit.field(r.input_hash)
        || credit_audit.field(r.corrects::text) || credit_audit.field(r.pending::text)
        || credit_audit.field(r.request_id::text) || credit_audit.field(r.prev_hash), 'UTF8')), 'hex')
$f$;

CREATE FUNCTION credit_audit.review_hash(r credit_audit.reviews) RETURNS text LANGUAGE sql STABLE AS $f$
    SELECT encode(sha256(convert_to('credit-tui-review-pg/1' || E'\n'
        || credit_audit.field(r.id::text) || credit_audit.field(r.decision_id::text)
        || credit_audit.field(r.time) || credit_audit.field(r.approver) || credit_audit.field(r.verdict)
        || credit_audit.field(r.justification) || credit_audit.field(r.prev_hash), 'UTF8')), 'hex')
$f$;

CREATE FUNCTION credit_audit.words(t text) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$
    SELECT count(*)::integer FROM regexp_split_to_table(t, '\s+') AS w WHERE w ~ '[[:alnum:]]'
$f$;

CREATE FUNCTION credit_audit.now_text() RETURNS text LANGUAGE sql VOLATILE AS $f$
    SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'
$f$;

CREATE FUNCTION credit_audit.record_decision(
    p_client_id bigint, p_bundle_id text, p_threshold double precision, p_pd double precision,
    p_model_decision text, p_final_decision text, p_justification text, p_reasons text,
    p_input_hash text, p_corrects bigint, p_request_id uuid
) RETURNS credit_audit.decisions
LANGUAGE plpgsql SECURITY DEFINER SET search_path = credit_audit, pg_temp SET extra_float_digits = 1
AS $f$
DECLARE
    rec credit_audit.decisions;
    earlier credit_audit.decisions;
    last_id bigint;
    last_hash text;
    level double precision;
    who text := session_user;
BEGIN
    IF NOT pg_has_role(session_user, 'credit_advisor', 'MEMBER') THEN
        RAISE EXCEPTION 'role % is not a credit advisor (a member of credit_advisor)', session_user
            USING ERRCODE = '42501';
    END IF;
    PERFORM pg_advisory_xact_lock(1129595221);  -- one writer at a time: one gap-free chain
    SELECT * INTO rec FROM decisions WHERE request_id = p_request_id;
    IF FOUND THEN  -- a retry of a decision that was recorded before the connection was lost
        IF rec.advisor <> who THEN
            RAISE EXCEPTION 'request % belongs to another advisor', p_request_id USING ERRCODE = '42501';
        END IF;
        RETURN rec;
    END IF;
    IF p_justification ~ '[[:cntrl:]]' OR p_bundle_id ~ '[[:cntrl:]]' OR p_reasons ~ '[\x01-\x1f\x7f]' THEN
        RAISE EXCEPTION 'Control characters are not allowed in a decision.' USING ERRCODE = '22023';
    END IF;
    IF (p_model_decision = 'REVIEW' OR p_final_decision <> p_model_decision)
       AND credit_audit.words(p_justification) < 3 THEN
        RAISE EXCEPTION 'A justification of at least 3 words is required for an override or a REVIEW case.'
            USING ERRCODE = '22023';
    END IF;
    IF p_corrects IS NOT NULL THEN
        SELECT * INTO earlier FROM decisions WHERE id = p_corrects;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'Record % does not exist, so it cannot be corrected.', p_corrects
                USING ERRCODE = '22023';
        END IF;
        IF earlier.client_id <> p_client_id THEN
            RAISE EXCEPTION 'Record % is about client %, not client %; a correction must concern the same client.',
                p_corrects, earlier.client_id, p_client_id USING ERRCODE = '22023';
        END IF;
    END IF;
    SELECT id, hash INTO last_id, last_hash FROM decisions ORDER BY id DESC LIMIT 1;
    SELECT value::double precision INTO level FROM meta WHERE key = 'four_eyes_pd';
    rec.id := coalesce(last_id, 0) + 1;
    rec.time := credit_audit.now_text();
    rec.advisor := who;
    rec.client_id := p_client_id;
    rec.bundle_id := p_bundle_id;
    rec.threshold := p_threshold;
    rec.pd := p_pd;
    rec.model_decision := p_model_decision;
    rec.final_decision := p_final_decision;
    rec.override := p_model_decision <> 'REVIEW' AND p_final_decision <> p_model_decision;
    rec.justification := p_justification;
    rec.reasons := p_reasons;
    rec.input_hash := p_input_hash;
    rec.corrects := p_corrects;
    rec.pending := rec.override OR (level IS NOT NULL AND p_pd > level);
    rec.request_id := p_request_id;
    rec.prev_hash := coalesce(last_hash, repeat('0', 64));
    rec.hash := credit_audit.decision_hash(rec);
    INSERT INTO decisions VALUES (rec.*);
    RETURN rec;
END
$f$;

CREATE FUNCTION credit_audit.review_decision(p_decision_id bigint, p_verdict text, p_justification text)
RETURNS credit_audit.reviews
LANGUAGE plpgsql SECURITY DEFINER SET search_path = credit_audit, pg_temp
AS $f$
DECLARE
    d credit_audit.decisions;
    rec credit_audit.reviews;
    last_id bigint;
    last_hash text;
BEGIN
    IF NOT pg_has_role(session_user, 'credit_supervisor', 'MEMBER') THEN
        RAISE EXCEPTION 'role % is not a credit supervisor, so it cannot approve or reject decisions',
            session_user USING ERRCODE = '42501';
    END IF;
    IF p_verdict NOT IN ('APPROVED', 'REJECTED') THEN
        RAISE EXCEPTION 'A verdict is APPROVED or REJECTED, not %.', p_verdict USING ERRCODE = '22023';
    END IF;
    IF credit_audit.words(p_justification) < 3 OR p_justification ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION 'A justification of at least 3 words (no control characters) is required.'
            USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(1129595221);
    SELECT * INTO d FROM decisions WHERE id = p_decision_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Record % does not exist.', p_decision_id USING ERRCODE = '22023';
    END IF;
    IF NOT d.pending THEN
        RAISE EXCEPTION 'Record % does not wait for approval.', p_decision_id USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM reviews WHERE decision_id = p_decision_id) THEN
        RAISE EXCEPTION 'Record % was already reviewed.', p_decision_id USING ERRCODE = '22023';
    END IF;
    IF d.advisor = session_user THEN
        RAISE EXCEPTION 'The approver must differ from the advisor: % cannot review their own decision %.',
            session_user, p_decision_id USING ERRCODE = '42501';
    END IF;
    SELECT id, hash INTO last_id, last_hash FROM reviews ORDER BY id DESC LIMIT 1;
    rec.id := coalesce(last_id, 0) + 1;
    rec.decision_id := p_decision_id;
    rec.time := credit_audit.now_text();
    rec.approver := session_user;
    rec.verdict := p_verdict;
    rec.justification := p_justification;
    rec.prev_hash := coalesce(last_hash, repeat('0', 64));
    rec.hash := credit_audit.review_hash(rec);
    INSERT INTO reviews VALUES (rec.*);
    RETURN rec;
END
$f$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA credit_audit FROM PUBLIC;
GRANT USAGE ON SCHEMA credit_audit TO credit_advisor;
GRANT SELECT ON credit_audit.meta, credit_audit.decisions, credit_audit.reviews TO credit_advisor;
GRANT EXECUTE ON FUNCTION credit_audit.record_decision(
    bigint, text, double precision, double precision, text, text, text, text, text, bigint, uuid
) TO credit_advisor;
GRANT EXECUTE ON FUNCTION credit_audit.review_decision(bigint, text, text) TO credit_supervisor;
