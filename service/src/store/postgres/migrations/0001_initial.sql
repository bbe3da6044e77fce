-- Tessera's PostgreSQL schema, version 1 (service/README.md, "The PostgreSQL store").
-- Times are unix seconds (bigint; a u64 past i64::MAX is stored as i64::MAX). Ids are the
-- 16 raw bytes of a tessera id. Applied once, in the transaction that records it in
-- schema_migrations.

-- Registered clients: the protobuf-encoded record (it holds the secret's verifier, never the
-- secret).
CREATE TABLE clients (
    id bytea PRIMARY KEY,
    record bytea NOT NULL
);

-- Grants whose code was spent (RFC 6749 §4.1.2), kept until the code's expiry plus the purge
-- margin.
CREATE TABLE spent_codes (
    grant_id bytea PRIMARY KEY,
    expires_at bigint NOT NULL
);
CREATE INDEX spent_codes_expires_at ON spent_codes (expires_at);

-- Revoked grants and tokens (RFC 7009), until when.
CREATE TABLE revoked_grants (
    grant_id bytea PRIMARY KEY,
    until bigint NOT NULL
);
CREATE INDEX revoked_grants_until ON revoked_grants (until);

CREATE TABLE revoked_tokens (
    token_id bytea PRIMARY KEY,
    until bigint NOT NULL
);
CREATE INDEX revoked_tokens_until ON revoked_tokens (until);

-- Open refresh families: the newest generation (the only one that rotates) and when its token
-- expires.
CREATE TABLE refresh_families (
    grant_id bytea PRIMARY KEY,
    newest bigint NOT NULL CHECK (newest BETWEEN 0 AND 4294967295),
    expires_at bigint NOT NULL
);
CREATE INDEX refresh_families_expires_at ON refresh_families (expires_at);

-- Each refresh family's absolute deadline, kept after the family closes, until it passes.
CREATE TABLE family_deadlines (
    grant_id bytea PRIMARY KEY,
    deadline bigint NOT NULL
);
CREATE INDEX family_deadlines_deadline ON family_deadlines (deadline);

-- Failed client authentications per key (a client id, or a source address), per window
-- (RFC 6749 §10.10), shared by every instance. The key is a kind byte ('c' client, '4' IPv4,
-- '6' IPv6 /64) and the id or address bytes.
CREATE TABLE failed_auths (
    key bytea PRIMARY KEY,
    window_end bigint NOT NULL,
    failures integer NOT NULL
);
CREATE INDEX failed_auths_window_end ON failed_auths (window_end);

-- What the fleet's servers recorded of each master key: its fingerprint (never the key), when a
-- server first minted with it, when a later key superseded it, and the longest lifetime of what
-- it minted (the data directory's key records, datadir/).
CREATE TABLE master_keys (
    id integer PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
    fingerprint bytea NOT NULL,
    active_since bigint,
    superseded_at bigint,
    lifetime bigint NOT NULL
);
