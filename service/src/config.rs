//! The server's settings: where its state lives, who it is, and how long what it issues lives.

use std::path::PathBuf;

use tessera_core::MAX_CODE_LIFETIME;

/// What `tessera serve` runs with (its flags, without the listen address).
#[derive(Clone, Debug)]
pub struct Config {
    /// Holds the database, the master keys and the operator token.
    pub data_dir: PathBuf,
    /// `iss` in introspection answers.
    pub issuer: String,
    /// Authorization code lifetime, seconds (at most 600, RFC 6749 §4.1.2).
    pub code_lifetime: u32,
    /// Access token lifetime, seconds.
    pub access_lifetime: u32,
    /// Refresh token lifetime, seconds.
    pub refresh_lifetime: u32,
}

/// A lifetime that is zero or too long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidLifetime(pub &'static str);

impl core::fmt::Display for InvalidLifetime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} must be at least 1 second (codes: at most {MAX_CODE_LIFETIME})",
            self.0
        )
    }
}

impl core::error::Error for InvalidLifetime {}

impl Config {
    /// A configuration with the default issuer and lifetimes (codes 60 s, access tokens 1 h,
    /// refresh tokens 30 days).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            issuer: "tessera".to_owned(),
            code_lifetime: 60,
            access_lifetime: 3600,
            refresh_lifetime: 30 * 24 * 3600,
        }
    }

    /// Checks the lifetimes.
    ///
    /// # Errors
    /// [`InvalidLifetime`] naming the first bad one.
    pub fn validate(&self) -> Result<(), InvalidLifetime> {
        if self.code_lifetime == 0 || self.code_lifetime > MAX_CODE_LIFETIME {
            return Err(InvalidLifetime("code lifetime"));
        }
        if self.access_lifetime == 0 {
            return Err(InvalidLifetime("access lifetime"));
        }
        if self.refresh_lifetime == 0 {
            return Err(InvalidLifetime("refresh lifetime"));
        }
        Ok(())
    }

    /// How long a revoked grant must stay revoked: the longest any of its tokens can live.
    pub fn grant_revocation_window(&self) -> u64 {
        u64::from(self.access_lifetime.max(self.refresh_lifetime))
    }
}
