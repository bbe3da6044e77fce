//! The server's settings: where its state lives, who it is, how long what it issues lives, and
//! how many wrong client secrets it tolerates.

use std::path::{Path, PathBuf};

use tessera_core::MAX_CODE_LIFETIME;

use crate::listener::Limits;

/// Where the server's state lives: the one choice of storage backend (the server and its
/// handlers never name one).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreConfig {
    /// The embedded redb database in a data directory that also holds the master keys and the
    /// operator token ([`datadir`](crate::datadir)).
    Embedded {
        /// The data directory.
        data_dir: PathBuf,
    },
}

impl StoreConfig {
    /// The data directory of an embedded store.
    pub fn data_dir(&self) -> Option<&Path> {
        match self {
            Self::Embedded { data_dir } => Some(data_dir),
        }
    }
}

/// Where a server's secret files are: the one place that decides it. By default both are in the
/// data directory ([`KeyFiles::in_dir`]); `--keys-file` and `--operator-token-file` point every
/// server of a fleet at the same files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFiles {
    /// The master keys file ([`keys`](crate::keys) has its format).
    pub keys: PathBuf,
    /// The operator token file.
    pub operator_token: PathBuf,
}

impl KeyFiles {
    /// The files of the data directory `dir`: `<dir>/keys` and `<dir>/operator_token`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            keys: dir.join(crate::keys::KEYS_FILE),
            operator_token: crate::keys::operator_token_path(dir),
        }
    }
}

/// What `tessera serve` runs with (its flags, without the listen address).
#[derive(Clone, Debug)]
pub struct Config {
    /// The storage backend and where its state lives.
    pub store: StoreConfig,
    /// Where the master keys and the operator token are.
    pub key_files: KeyFiles,
    /// `iss` in introspection answers.
    pub issuer: String,
    /// Authorization code lifetime, seconds (at most 600, RFC 6749 §4.1.2).
    pub code_lifetime: u32,
    /// Access token lifetime, seconds.
    pub access_lifetime: u32,
    /// Refresh token lifetime, seconds; each rotation starts a new one.
    pub refresh_lifetime: u32,
    /// The most a refresh family (one authorization) lives, seconds, however often it rotates.
    pub refresh_max_lifetime: u32,
    /// Wrong secrets for one client allowed per window; past it further wrong secrets are
    /// answered `RESOURCE_EXHAUSTED` after a delay, while the right secret keeps working
    /// ([`Authority`](crate::Authority) keeps these counts).
    pub failed_auth_limit: u32,
    /// Wrong secrets from one source address (an IPv6 /64) allowed per window, for any clients;
    /// past it, the same as `failed_auth_limit`.
    pub failed_auth_source_limit: u32,
    /// The window of both failed-auth limits, seconds, from the first failure in it.
    pub failed_auth_window: u32,
    /// What the listener allows one connection and all of them.
    pub limits: Limits,
}

/// A setting out of its range (the text names it and the range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidConfig(pub &'static str);

impl core::fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

impl core::error::Error for InvalidConfig {}

impl Config {
    /// A configuration for the embedded store in `data_dir`, its keys and operator token in it too, with the default issuer and lifetimes (codes 60 s, access tokens 1 h,
    /// refresh tokens 30 days, refresh families 90 days), and at most 10 failed authentications per client and 20 per
    /// source address a minute.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            key_files: KeyFiles::in_dir(&data_dir),
            store: StoreConfig::Embedded { data_dir },
            issuer: "tessera".to_owned(),
            code_lifetime: 60,
            access_lifetime: 3600,
            refresh_lifetime: 30 * 24 * 3600,
            refresh_max_lifetime: 90 * 24 * 3600,
            failed_auth_limit: 10,
            failed_auth_source_limit: 20,
            failed_auth_window: 60,
            limits: Limits::default(),
        }
    }

    /// Checks the lifetimes and the throttle.
    ///
    /// # Errors
    /// [`InvalidConfig`] naming the first bad setting.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        const _: () = assert!(MAX_CODE_LIFETIME == 600, "update the message below");
        if self.code_lifetime == 0 || self.code_lifetime > MAX_CODE_LIFETIME {
            return Err(InvalidConfig("code lifetime must be 1 to 600 seconds"));
        }
        if self.access_lifetime == 0 {
            return Err(InvalidConfig("access lifetime must be at least 1 second"));
        }
        if self.refresh_lifetime == 0 {
            return Err(InvalidConfig("refresh lifetime must be at least 1 second"));
        }
        if self.refresh_max_lifetime == 0 {
            return Err(InvalidConfig(
                "refresh max lifetime must be at least 1 second",
            ));
        }
        if self.failed_auth_limit == 0 {
            return Err(InvalidConfig("failed-auth limit must be at least 1"));
        }
        if self.failed_auth_source_limit == 0 {
            return Err(InvalidConfig("failed-auth source limit must be at least 1"));
        }
        if self.failed_auth_window == 0 {
            return Err(InvalidConfig(
                "failed-auth window must be at least 1 second",
            ));
        }
        self.limits.validate().map_err(InvalidConfig)
    }

    /// How long a revoked grant must stay revoked: the longest any of its tokens can live.
    pub fn grant_revocation_window(&self) -> u64 {
        u64::from(self.access_lifetime.max(self.refresh_lifetime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zeros_are_not() {
        let config = Config::new("data");
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(
            (config.failed_auth_limit, config.failed_auth_window),
            (10, 60)
        );
        let zeroed: [fn(&mut Config); 7] = [
            |c| c.code_lifetime = 0,
            |c| c.access_lifetime = 0,
            |c| c.refresh_lifetime = 0,
            |c| c.refresh_max_lifetime = 0,
            |c| c.failed_auth_limit = 0,
            |c| c.failed_auth_source_limit = 0,
            |c| c.failed_auth_window = 0,
        ];
        for zero in zeroed {
            let mut config = Config::new("data");
            zero(&mut config);
            assert!(config.validate().is_err(), "{config:?}");
        }
        let mut config = Config::new("data");
        config.code_lifetime = MAX_CODE_LIFETIME + 1;
        assert_eq!(
            config.validate(),
            Err(InvalidConfig("code lifetime must be 1 to 600 seconds"))
        );
    }
}
