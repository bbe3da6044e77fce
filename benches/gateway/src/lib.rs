//! What both firmware images share: the gateway's provisioning blob, its identity, the fixed
//! `now`, the token table build.rs baked in, and the one check a gateway makes per request.
#![no_std]

use tessera_core::{AccessClaims, AccessToken, Error, KeySet};

/// The provisioning blob (core FORMAT.md §7) build.rs encoded: access-token sub-keys of master
/// keys 1 and 2, nothing else.
pub static PROVISIONING: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gateway.keys"));

/// The verdict a token must get.
#[derive(Debug)]
pub enum Expect {
    /// Accepted, with these claims.
    Accept {
        /// The key that signed it.
        key_id: u16,
        /// `sub`.
        subject: &'static str,
        /// `scope`.
        scope: &'static str,
        /// `iat`.
        issued_at: u64,
        /// `exp`.
        expires_at: u64,
        /// How many audience entries it names.
        audience: usize,
    },
    /// Refused with this error.
    Reject(Error),
}

impl Expect {
    /// True if `verdict` is this one: the same error, or acceptance with the same claims.
    pub fn matches(&self, verdict: &Result<AccessClaims, Error>) -> bool {
        match (self, verdict) {
            (Self::Reject(want), Err(got)) => want == got,
            (
                Self::Accept {
                    key_id,
                    subject,
                    scope,
                    issued_at,
                    expires_at,
                    audience,
                },
                Ok(c),
            ) => {
                c.key_id().get() == *key_id
                    && c.grant().subject.as_str() == *subject
                    && c.grant().scope.as_str() == *scope
                    && c.issued_at() == *issued_at
                    && c.expires_at() == *expires_at
                    && c.grant().audience.len() == *audience
            }
            _ => false,
        }
    }
}

/// One token of the table.
#[derive(Debug)]
pub struct Case {
    /// What the token is.
    pub name: &'static str,
    /// Its text.
    pub token: &'static str,
    /// The verdict it must get.
    pub expect: Expect,
}

// `GATEWAY` (this gateway's client id), `NOW` (the fixed time of every check), `CASES`,
// `MEASURED` and `SHORTEST`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/cases.rs"));

/// A gateway's whole per-request work: verify the token under `keys` at `now`, then check that
/// it is meant for this gateway.
///
/// # Errors
/// Every error of `AccessToken::verify_for`.
#[inline(never)]
pub fn check(keys: &KeySet, token: &str, now: u64) -> Result<AccessClaims, Error> {
    AccessToken::verify_for(keys, token, &GATEWAY, now)
}
