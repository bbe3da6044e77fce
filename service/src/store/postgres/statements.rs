//! The statements of the PostgreSQL store, one per operation (each prepared once per
//! connection). Parameters are cast explicitly, so each statement's types are fixed whatever
//! PostgreSQL would infer.

/// Marks the code spent if it is unspent and unexpired, opening its family; says whether it won
/// and whether the mark was there before.
pub(super) const SPEND: &str = "\
WITH spent AS (
    INSERT INTO spent_codes (grant_id, expires_at)
    SELECT $1::bytea, $2::bigint WHERE $5::bigint < $2::bigint
    ON CONFLICT (grant_id) DO NOTHING
    RETURNING grant_id
), family AS (
    INSERT INTO refresh_families (grant_id, newest, expires_at)
    SELECT grant_id, 0, $3::bigint FROM spent
    ON CONFLICT (grant_id) DO UPDATE SET newest = 0, expires_at = EXCLUDED.expires_at
), deadline AS (
    INSERT INTO family_deadlines (grant_id, deadline)
    SELECT grant_id, $4::bigint FROM spent
    ON CONFLICT (grant_id) DO UPDATE SET deadline = EXCLUDED.deadline
)
SELECT EXISTS (SELECT 1 FROM spent),
       EXISTS (SELECT 1 FROM spent_codes WHERE grant_id = $1::bytea)";

/// Locks the family row, then either advances it (generation is the newest), or closes it and
/// revokes the grant (an older generation), or does nothing. A concurrent rotation that
/// committed first is seen: the lock re-reads the row.
pub(super) const ROTATE: &str = "\
WITH family AS (
    SELECT f.newest, COALESCE(d.deadline, $4::bigint) AS deadline,
           EXISTS (SELECT 1 FROM revoked_grants r
                   WHERE r.grant_id = $1::bytea AND r.until > $6::bigint) AS revoked
    FROM refresh_families f LEFT JOIN family_deadlines d ON d.grant_id = f.grant_id
    WHERE f.grant_id = $1::bytea AND f.expires_at > $6::bigint
    FOR UPDATE OF f
), rotated AS (
    UPDATE refresh_families f
    SET newest = f.newest + 1, expires_at = LEAST($3::bigint, family.deadline)
    FROM family
    WHERE f.grant_id = $1::bytea AND NOT family.revoked AND family.newest = $2::bigint
      AND family.newest < 4294967295 AND $6::bigint < family.deadline
    RETURNING f.expires_at, family.deadline
), deadline AS (
    INSERT INTO family_deadlines (grant_id, deadline)
    SELECT $1::bytea, deadline FROM rotated
    ON CONFLICT (grant_id) DO UPDATE SET deadline = EXCLUDED.deadline
), reused AS (
    DELETE FROM refresh_families f USING family
    WHERE f.grant_id = $1::bytea AND NOT family.revoked AND family.newest > $2::bigint
    RETURNING f.grant_id
), revoked AS (
    INSERT INTO revoked_grants (grant_id, until)
    SELECT grant_id, $5::bigint FROM reused
    ON CONFLICT (grant_id) DO UPDATE SET until = GREATEST(revoked_grants.until, EXCLUDED.until)
)
SELECT (SELECT expires_at FROM rotated), EXISTS (SELECT 1 FROM reused)";

/// Revokes a grant (the longer revocation wins) and closes its family.
pub(super) const REVOKE_GRANT: &str = "\
WITH revoked AS (
    INSERT INTO revoked_grants (grant_id, until) VALUES ($1::bytea, $2::bigint)
    ON CONFLICT (grant_id) DO UPDATE SET until = GREATEST(revoked_grants.until, EXCLUDED.until)
)
DELETE FROM refresh_families WHERE grant_id = $1::bytea";

/// Revokes one token id (the longer revocation wins).
pub(super) const REVOKE_TOKEN: &str = "\
INSERT INTO revoked_tokens (token_id, until) VALUES ($1::bytea, $2::bigint)
ON CONFLICT (token_id) DO UPDATE SET until = GREATEST(revoked_tokens.until, EXCLUDED.until)";

/// True if the grant or the token is revoked at `$3`.
pub(super) const IS_REVOKED: &str = "\
SELECT EXISTS (SELECT 1 FROM revoked_grants WHERE grant_id = $1::bytea AND until > $3::bigint)
    OR EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = $2::bytea AND until > $3::bigint)";

/// One upsert: a failure in the open window counts, one after it starts a new window.
pub(super) const RECORD_FAILED_AUTH: &str = "\
INSERT INTO failed_auths AS f (key, window_end, failures) VALUES ($1::bytea, $3::bigint, 1)
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN f.window_end > $2::bigint
                    THEN LEAST(f.failures::bigint + 1, 2147483647)::integer ELSE 1 END,
    window_end = CASE WHEN f.window_end > $2::bigint THEN f.window_end ELSE EXCLUDED.window_end END
RETURNING failures";

/// One batch of every table's expired rows. `SKIP LOCKED`: instances purging at once take
/// different rows, and none waits for another (or for a request holding a row).
pub(super) const PURGE: &str = "\
WITH codes AS (
    DELETE FROM spent_codes WHERE ctid = ANY (ARRAY (
        SELECT ctid FROM spent_codes WHERE expires_at <= $1::bigint
        LIMIT $3::bigint FOR UPDATE SKIP LOCKED))
    RETURNING 1
), grants AS (
    DELETE FROM revoked_grants WHERE ctid = ANY (ARRAY (
        SELECT ctid FROM revoked_grants WHERE until <= $1::bigint
        LIMIT $3::bigint FOR UPDATE SKIP LOCKED))
    RETURNING 1
), tokens AS (
    DELETE FROM revoked_tokens WHERE ctid = ANY (ARRAY (
        SELECT ctid FROM revoked_tokens WHERE until <= $1::bigint
        LIMIT $3::bigint FOR UPDATE SKIP LOCKED))
    RETURNING 1
), families AS (
    DELETE FROM refresh_families WHERE ctid = ANY (ARRAY (
        SELECT ctid FROM refresh_families WHERE expires_at <= $1::bigint
        LIMIT $3::bigint FOR UPDATE SKIP LOCKED))
    RETURNING 1
), deadlines AS (
    DELETE FROM family_deadlines WHERE ctid = ANY (ARRAY (
        SELECT ctid FROM family_deadlines WHERE deadline <= $1::bigint
        LIMIT $3::bigint FOR UPDATE SKIP LOCKED))
    RETURNING 1
), windows AS (
    DELETE FROM failed_auths WHERE ctid = ANY (ARRAY (
        SELECT ctid FROM failed_auths WHERE window_end <= $2::bigint
        LIMIT $3::bigint FOR UPDATE SKIP LOCKED))
    RETURNING 1
)
SELECT ARRAY [(SELECT count(*) FROM codes), (SELECT count(*) FROM grants),
              (SELECT count(*) FROM tokens), (SELECT count(*) FROM families),
              (SELECT count(*) FROM deadlines), (SELECT count(*) FROM windows)]";
