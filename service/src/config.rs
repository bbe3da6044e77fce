//! The server's settings: where its state lives, who it is, how long what it issues lives, and
//! how many wrong client secrets it tolerates.

use std::path::{Path, PathBuf};

use tessera_core::MAX_CODE_LIFETIME;

use crate::listener::Limits;
use crate::store::PostgresUrl;

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
    /// A PostgreSQL database that a fleet of instances shares
    /// ([`PostgresStore`](crate::store::PostgresStore)); the instances load the same key files
    /// ([`Config::key_files`]).
    Postgres {
        /// Where the database is (its `Debug` hides the password).
        url: PostgresUrl,
    },
}

impl StoreConfig {
    /// The data directory of an embedded store.
    pub fn data_dir(&self) -> Option<&Path> {
        match self {
            Self::Embedded { data_dir } => Some(data_dir),
            Self::Postgres { .. } => None,
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

/// The issuer of a server started with the defaults: its HTTP listener's default address.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8080";

/// What `tessera serve` runs with (its flags, without the listen addresses).
#[derive(Clone, Debug)]
pub struct Config {
    /// The storage backend and where its state lives.
    pub store: StoreConfig,
    /// Where the master keys and the operator token are.
    pub key_files: KeyFiles,
    /// The issuer identifier (RFC 8414 §2): an `https` URL, or `http` on a loopback host, with no
    /// path, query or fragment. It is `iss` in introspection answers and on every authorization
    /// response (RFC 9207), and the base of every endpoint URL in the metadata document.
    pub issuer: String,
    /// Where the authorization endpoint sends the browser to sign in and consent: the operator's
    /// login app, which gets a `login_challenge` parameter. `None`: the authorization endpoint
    /// answers every valid request with `server_error`.
    pub login_url: Option<String>,
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
    /// (the store counts them, for every instance that shares it).
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
            issuer: DEFAULT_ISSUER.to_owned(),
            login_url: None,
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
        check_issuer(&self.issuer).map_err(InvalidConfig)?;
        if let Some(url) = &self.login_url {
            check_login_url(url).map_err(InvalidConfig)?;
        }
        self.limits.validate().map_err(InvalidConfig)
    }

    /// How long a revoked grant must stay revoked: the longest any of its tokens can live.
    pub fn grant_revocation_window(&self) -> u64 {
        u64::from(self.access_lifetime.max(self.refresh_lifetime))
    }
}

/// True for a host that names this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<core::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// RFC 8414 §2: "a URL that uses the https scheme and has no query or fragment components"; plain
/// `http` is accepted for a loopback host (development, and a TLS-terminating proxy's upstream
/// is configured with the public `https` issuer instead). No path either: endpoint URLs are the
/// issuer followed by their path.
fn check_issuer(issuer: &str) -> Result<(), &'static str> {
    const FORM: &str = "issuer must be https://HOST[:PORT] (or http:// on a loopback host) \
                        with no path, query or fragment, e.g. https://auth.example.com";
    let uri: http::Uri = issuer.parse().map_err(|_| FORM)?;
    let host = uri.host().ok_or(FORM)?;
    let secure = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(FORM),
    };
    // `http::Uri` reads an absent path as "/", so the text is checked for one too.
    let bare = uri.path() == "/" && uri.query().is_none() && !issuer.ends_with('/');
    if !bare || issuer.contains('#') || issuer.contains('@') {
        return Err(FORM);
    }
    if !secure && !is_loopback(host) {
        return Err("issuer must use https unless its host is loopback (RFC 8414 §2)");
    }
    Ok(())
}

/// The login app's URL: absolute `http` or `https`, without a fragment (the challenge is added
/// to its query).
fn check_login_url(url: &str) -> Result<(), &'static str> {
    const FORM: &str = "login URL must be an absolute http:// or https:// URL without a fragment";
    let uri: http::Uri = url.parse().map_err(|_| FORM)?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(FORM);
    }
    if url.contains('#') {
        return Err(FORM);
    }
    Ok(())
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

    #[test]
    fn the_issuer_is_an_https_url_or_http_on_loopback_with_no_path_query_or_fragment() {
        for good in [
            "https://auth.example.com",
            "https://auth.example.com:8443",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert_eq!(check_issuer(good), Ok(()), "{good}");
        }
        for bad in [
            "tessera",
            "",
            "http://auth.example.com",
            "https://auth.example.com/",
            "https://auth.example.com/tenant",
            "https://auth.example.com?x=1",
            "https://auth.example.com#f",
            "https://user@auth.example.com",
            "ftp://auth.example.com",
            "http://127.0.0.1.example.com",
        ] {
            assert!(check_issuer(bad).is_err(), "{bad}");
        }
        let mut config = Config::new("data");
        config.login_url = Some("https://login.example.com/signin?tenant=a".to_owned());
        assert_eq!(config.validate(), Ok(()));
        for bad in [
            "/login",
            "login.example.com",
            "https://l.example/x#y",
            "javascript:x",
        ] {
            config.login_url = Some(bad.to_owned());
            assert!(config.validate().is_err(), "{bad}");
        }
    }
}
