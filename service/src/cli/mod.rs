//! The `tessera` command line: `serve`, `check`, `keys add | activate | retire | rotate`, and
//! client commands that call a running server (`register`, `issue-code`, `login`, `exchange`,
//! `introspect`, `revoke`, `health`, `pkce`, `demo`) and the operator's
//! `clients list | show | update | delete | rotate-secret`.

pub mod client;
pub mod clients;
pub mod demo;
mod gateway;

use core::net::SocketAddr;
use core::time::Duration;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tessera_core::MAX_CODE_LIFETIME;
use tracing_subscriber::EnvFilter;

/// Writes one line to standard output. A closed pipe (`tessera … | head -1`) is an error the
/// caller returns, and `main` ends quietly on it: never a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}
pub(crate) use say;

use crate::config::{Config, KeyFiles, StoreConfig};
use crate::keys::KeysFile;
use crate::listener::{self, Limits};
use crate::store::PostgresUrl;
use tessera_core::KeyId;

/// Tessera: an OAuth 2.0 token server over gRPC.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC server.
    Serve(ServeArgs),
    /// Check a data directory without changing it: keys, operator token, database, and that
    /// they belong together (stop the server first).
    Check {
        /// The data directory.
        #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
        data_dir: PathBuf,
        /// Where the keys and operator token are, if not in the data directory.
        #[command(flatten)]
        files: KeyFileArgs,
    },
    /// Manage the master keys in a data directory.
    Keys {
        /// The key operation.
        #[command(subcommand)]
        command: KeysCommand,
        /// The format of the security events (`key_added`, …) on standard error.
        #[arg(
            long,
            global = true,
            env = "TESSERA_LOG_FORMAT",
            default_value = "text"
        )]
        log_format: LogFormat,
    },
    /// Register a client (operator).
    Register(client::RegisterArgs),
    /// List, show, update or delete registered clients, or rotate a secret (operator).
    Clients {
        /// The client operation.
        #[command(subcommand)]
        command: clients::ClientsCommand,
    },
    /// Issue an authorization code for a signed-in user (operator).
    IssueCode(client::IssueCodeArgs),
    /// Read, accept or reject a login challenge: what a login app does (operator).
    Login {
        /// The hand-off step.
        #[command(subcommand)]
        command: client::LoginCommand,
    },
    /// Exchange a code or a refresh token for tokens (client).
    Exchange(client::ExchangeArgs),
    /// Introspect a token (client or resource server, RFC 7662).
    Introspect(client::IntrospectArgs),
    /// Revoke a token (client, RFC 7009).
    Revoke(client::RevokeArgs),
    /// Check the server's gRPC health.
    Health(client::Connection),
    /// Print a fresh PKCE code_verifier and its S256 code_challenge.
    Pkce(client::Output),
    /// Walk the whole authorization-code flow against a running server.
    Demo(demo::DemoArgs),
}

/// `--keys-file` and `--operator-token-file` of `tessera serve` and `tessera check`: each
/// defaults to the data directory's own file.
#[derive(Debug, Clone, Args)]
pub struct KeyFileArgs {
    /// The master keys file, e.g. one every server of a fleet shares (default
    /// `<data-dir>/keys`).
    #[arg(long, env = "TESSERA_KEYS_FILE")]
    pub keys_file: Option<PathBuf>,
    /// The operator token file, e.g. one every server of a fleet shares (default
    /// `<data-dir>/operator_token`).
    #[arg(long, env = "TESSERA_OPERATOR_TOKEN_FILE")]
    pub operator_token_file: Option<PathBuf>,
}

impl KeyFileArgs {
    /// The files, defaulting to those of `data_dir`.
    pub fn resolve(&self, data_dir: &std::path::Path) -> KeyFiles {
        let defaults = KeyFiles::in_dir(data_dir);
        KeyFiles {
            keys: self.keys_file.clone().unwrap_or(defaults.keys),
            operator_token: self
                .operator_token_file
                .clone()
                .unwrap_or(defaults.operator_token),
        }
    }
}

/// The keys file a `tessera keys add | activate | retire` changes: `--keys-file`, or the data
/// directory's.
#[derive(Debug, Clone, Args)]
pub struct KeysFileArg {
    /// The keys file (a fleet's shared one); it wins over --data-dir.
    #[arg(long, env = "TESSERA_KEYS_FILE")]
    pub keys_file: Option<PathBuf>,
    /// The data directory whose `keys` file to change.
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
    pub data_dir: PathBuf,
}

impl KeysFileArg {
    /// The keys file's path.
    pub fn path(&self) -> PathBuf {
        self.keys_file
            .clone()
            .unwrap_or_else(|| KeyFiles::in_dir(&self.data_dir).keys)
    }
}

/// `tessera keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new master key, verify-only (the active key keeps minting); prints its id. Then send
    /// SIGHUP to every server that reads the file, and `tessera keys activate ID` once all have it.
    Add(KeysFileArg),
    /// Make key ID the minting key (it must be in the file); then send SIGHUP to every server.
    Activate {
        /// The key id.
        id: u16,
        /// The file.
        #[command(flatten)]
        file: KeysFileArg,
    },
    /// Remove key ID (never the active key): tokens and stored client secrets under it stop
    /// verifying once the servers are sent SIGHUP, so wait until they have expired.
    Retire {
        /// The key id.
        id: u16,
        /// The file.
        #[command(flatten)]
        file: KeysFileArg,
    },
    /// Add a new active master key in one step, for a single stopped server (it mints with the
    /// new key from its next start); older keys keep verifying. At most 4 keys are kept: the
    /// oldest is retired. A running server or a fleet: use add, activate, retire and SIGHUP.
    Rotate {
        /// The server's data directory.
        #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
        data_dir: PathBuf,
        /// Retire the oldest key even if stored client secrets or live tokens still need it.
        #[arg(long)]
        force: bool,
    },
    /// Write a gateway's access-token verification keys (core FORMAT.md §7): secret, binary.
    ExportGateway {
        /// The server's data directory.
        #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
        data_dir: PathBuf,
        /// The file to write (mode 0600); without it, standard output unless that is a terminal.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// How logs are written to standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event (in colour on a terminal).
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `fields`), for log shippers.
    Json,
}

/// `tessera serve` flags; each can also come from its `TESSERA_*` environment variable.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to serve gRPC on.
    #[arg(long, env = "TESSERA_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Address to serve the OAuth HTTP endpoints on (HTTP/1.1 and HTTP/2; put a TLS-terminating
    /// proxy in front), or `off` for gRPC only.
    #[arg(long, env = "TESSERA_HTTP_LISTEN", default_value = "127.0.0.1:8080",
          value_parser = parse_http_listen)]
    pub http_listen: HttpListen,
    /// Directory of the database, master keys and operator token (with --store postgres://,
    /// of the keys and operator token only: the same files on every instance).
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
    pub data_dir: PathBuf,
    /// The store: absent, the embedded database in --data-dir; `postgres://USER@HOST:PORT/DB`,
    /// a PostgreSQL database that several instances share. Pass a URL holding a password in
    /// the environment, not on the command line.
    #[arg(long, env = "TESSERA_STORE", value_name = "URL", hide_env_values = true,
          value_parser = StoreUrlParser)]
    pub store: Option<PostgresUrl>,
    /// Where the keys and operator token are, if not in the data directory.
    #[command(flatten)]
    pub files: KeyFileArgs,
    /// Issuer URL (RFC 8414): `https://HOST[:PORT]`, or `http://` on a loopback host; `iss`
    /// everywhere and the base of the endpoint URLs the metadata document lists.
    #[arg(long, env = "TESSERA_ISSUER", default_value = crate::config::DEFAULT_ISSUER)]
    pub issuer: String,
    /// The operator's login and consent app: the authorization endpoint redirects the browser
    /// there with a `login_challenge` parameter (service/README.md, "The login hand-off").
    #[arg(long, env = "TESSERA_LOGIN_URL")]
    pub login_url: Option<String>,
    /// Authorization code lifetime in seconds (at most 600).
    #[arg(long, env = "TESSERA_CODE_LIFETIME", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CODE_LIFETIME)))]
    pub code_lifetime: u32,
    /// Access token lifetime in seconds.
    #[arg(long, env = "TESSERA_ACCESS_LIFETIME", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub access_lifetime: u32,
    /// Refresh token lifetime in seconds.
    #[arg(long, env = "TESSERA_REFRESH_LIFETIME", default_value_t = 30 * 24 * 3600,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub refresh_lifetime: u32,
    /// Longest life of one authorization's refresh tokens in seconds, however often they
    /// rotate; then the user must authorize again.
    #[arg(long, env = "TESSERA_REFRESH_MAX_LIFETIME", default_value_t = 90 * 24 * 3600,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub refresh_max_lifetime: u32,
    /// Wrong secrets for one client allowed per window; past it further wrong secrets are
    /// answered RESOURCE_EXHAUSTED after a 1 s delay (the right secret keeps working).
    #[arg(long, env = "TESSERA_FAILED_AUTH_LIMIT", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub failed_auth_limit: u32,
    /// Wrong secrets from one source address (IPv6: one /64) allowed per window, for any
    /// clients; past it, the same as --failed-auth-limit.
    #[arg(long, env = "TESSERA_FAILED_AUTH_SOURCE_LIMIT", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub failed_auth_source_limit: u32,
    /// The window of both failed-auth limits in seconds, from the first failure in it.
    #[arg(long, env = "TESSERA_FAILED_AUTH_WINDOW", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub failed_auth_window: u32,
    /// Open connections at most (lowered to what the descriptor limit allows); past it new
    /// connections wait until one closes.
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Concurrent HTTP/2 streams per connection.
    #[arg(long, env = "TESSERA_MAX_STREAMS", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams: u32,
    /// Seconds a new connection has to start its first request before it is closed.
    #[arg(long, env = "TESSERA_HANDSHAKE_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub handshake_timeout: u32,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(long, env = "TESSERA_IDLE_TIMEOUT", default_value_t = 120,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub idle_timeout: u32,
    /// Seconds a request may take, from its headers to its answer, body included.
    #[arg(long, env = "TESSERA_REQUEST_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub request_timeout: u32,
    /// Seconds between HTTP/2 keepalive pings; a peer that does not answer in as long is dropped.
    #[arg(long, env = "TESSERA_KEEPALIVE", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub keepalive: u32,
    /// Log filter (`info`, `debug`, `warn,tessera_service=debug`, ...); `RUST_LOG` overrides it.
    /// Logs go to standard error.
    #[arg(long, env = "TESSERA_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Log format: `text`, or `json` (one object per line) for log shippers.
    #[arg(long, env = "TESSERA_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// Also serve `/metrics` (Prometheus text format) on a listener of its own, e.g. one only
    /// the monitoring network reaches (the HTTP listener serves it too).
    #[arg(long, env = "TESSERA_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

impl ServeArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> Config {
        Config {
            store: match &self.store {
                None => StoreConfig::Embedded {
                    data_dir: self.data_dir.clone(),
                },
                Some(url) => StoreConfig::Postgres { url: url.clone() },
            },
            key_files: self.files.resolve(&self.data_dir),
            issuer: self.issuer.clone(),
            login_url: self.login_url.clone(),
            code_lifetime: self.code_lifetime,
            access_lifetime: self.access_lifetime,
            refresh_lifetime: self.refresh_lifetime,
            refresh_max_lifetime: self.refresh_max_lifetime,
            failed_auth_limit: self.failed_auth_limit,
            failed_auth_source_limit: self.failed_auth_source_limit,
            failed_auth_window: self.failed_auth_window,
            limits: Limits {
                max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
                max_streams: self.max_streams,
                handshake_timeout: Duration::from_secs(self.handshake_timeout.into()),
                idle_timeout: Duration::from_secs(self.idle_timeout.into()),
                request_timeout: Duration::from_secs(self.request_timeout.into()),
                keepalive: Duration::from_secs(self.keepalive.into()),
            },
        }
    }
}

/// Parses `--store`; its errors never repeat the value (it may hold a password).
#[derive(Clone, Copy, Debug)]
pub struct StoreUrlParser;

impl clap::builder::TypedValueParser for StoreUrlParser {
    type Value = PostgresUrl;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<PostgresUrl, clap::Error> {
        let invalid = |why: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("--store: {why}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(|| invalid("not UTF-8"))?;
        if !PostgresUrl::is_postgres(text) {
            return Err(invalid(
                "expected postgres://USER@HOST:PORT/DB (leave it out for the embedded store)",
            ));
        }
        PostgresUrl::parse(text).map_err(|e| invalid(&e.to_string()))
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the command failed with (a client command: the server's status).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Check { data_dir, files } => check(&data_dir, &files.resolve(&data_dir)),
        Command::Keys {
            command,
            log_format,
        } => {
            // Only the security events: the commands say what they did on standard output.
            init_logs(EnvFilter::new("warn,tessera::audit=info"), log_format);
            keys(command)
        }
        Command::Register(args) => client::register(args).await,
        Command::Clients { command } => clients::run(command).await,
        Command::IssueCode(args) => client::issue_code(args).await,
        Command::Login { command } => client::login(command).await,
        Command::Exchange(args) => client::exchange(args).await,
        Command::Introspect(args) => client::introspect(args).await,
        Command::Revoke(args) => client::revoke(args).await,
        Command::Health(args) => client::health(args).await,
        Command::Pkce(args) => client::pkce(&args),
        Command::Demo(args) => demo::run(args).await,
    }
}

fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Add(file) => keys_add(&file.path()),
        KeysCommand::Activate { id, file } => keys_activate(&file.path(), KeyId::new(id)),
        KeysCommand::Retire { id, file } => keys_retire(&file.path(), KeyId::new(id)),
        KeysCommand::Rotate { data_dir, force } => rotate(&data_dir, force),
        KeysCommand::ExportGateway { data_dir, out } => gateway::run(&data_dir, out.as_deref()),
    }
}

fn ids(ids: impl IntoIterator<Item = tessera_core::KeyId>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
    ids.join(", ")
}

fn rotate(data_dir: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let rng = crate::rng::SharedRng::from_os()
        .map_err(|e| anyhow::anyhow!("no entropy from the operating system: {e}"))?;
    let rotated = crate::datadir::rotate(data_dir, &rng, force)?;
    let path = KeyFiles::in_dir(data_dir).keys;
    crate::audit::key_added(&path, rotated.added);
    crate::audit::key_activated(&path, rotated.added);
    for (id, _) in &rotated.retired {
        crate::audit::key_retired(&path, *id);
    }
    say!(
        "new active key {}; the server mints with it from its next start",
        rotated.added
    );
    say!("kept: {}", ids(rotated.kept.iter().copied()));
    for (id, needs) in &rotated.retired {
        if needs.is_empty() {
            say!("retired: {id} (nothing needed it)");
        } else {
            say!("retired: {id} (forced, although {})", needs.join(" and "));
        }
    }
    Ok(())
}

/// Reads the keys file at `path` for a change: private and whole, or refused.
fn keys_file(path: &std::path::Path) -> anyhow::Result<KeysFile> {
    let read = crate::keys::check_private(path).and_then(|()| crate::keys::read_keys(path));
    read.map_err(|e| match e.kind() {
        // Our own messages name the file and the fix.
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::PermissionDenied
            if e.raw_os_error().is_none() =>
        {
            anyhow::anyhow!(e.to_string())
        }
        std::io::ErrorKind::NotFound => anyhow::anyhow!(
            "{} does not exist: start the server once to create it, or pass the file every \
             server reads (--keys-file PATH or --data-dir DIR)",
            path.display()
        ),
        _ => anyhow::anyhow!("cannot read {}: {e}", path.display()),
    })
}

fn save_keys(path: &std::path::Path, file: &KeysFile) -> anyhow::Result<()> {
    crate::keys::write_keys_file(path, file)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

fn keys_add(path: &std::path::Path) -> anyhow::Result<()> {
    let rng = crate::rng::SharedRng::from_os()
        .map_err(|e| anyhow::anyhow!("no entropy from the operating system: {e}"))?;
    let mut file = keys_file(path)?;
    let added = file.add(path, &rng)?;
    save_keys(path, &file)?;
    crate::audit::key_added(path, added);
    say!("{added}");
    eprintln!(
        "added key {added} to {} (verify-only; key {} still mints): send SIGHUP to every server \
         that reads it, then `tessera keys activate {added}`",
        path.display(),
        file.active
    );
    Ok(())
}

fn keys_activate(path: &std::path::Path, id: KeyId) -> anyhow::Result<()> {
    let mut file = keys_file(path)?;
    file.activate(path, id)?;
    save_keys(path, &file)?;
    crate::audit::key_activated(path, id);
    say!(
        "key {id} is active in {} (keys: {}): send SIGHUP to every server that reads it",
        path.display(),
        ids(file.ids())
    );
    Ok(())
}

fn keys_retire(path: &std::path::Path, id: KeyId) -> anyhow::Result<()> {
    let mut file = keys_file(path)?;
    file.retire(path, id)?;
    save_keys(path, &file)?;
    crate::audit::key_retired(path, id);
    say!(
        "retired key {id} from {} (keys: {}; key {} mints): send SIGHUP to every server that \
         reads it",
        path.display(),
        ids(file.ids()),
        file.active
    );
    Ok(())
}

fn check(data_dir: &std::path::Path, files: &KeyFiles) -> anyhow::Result<()> {
    let checked = crate::datadir::check(data_dir, files)?;
    say!("{}: sound", data_dir.display());
    say!(
        "keys: {} (key {} mints)",
        ids(checked.keys.iter().copied()),
        checked.active
    );
    for (id, count) in &checked.verifiers_by_key {
        say!("client secrets under key {id}: {count}");
    }
    Ok(())
}

/// The log filter: `RUST_LOG` if set, else `--log-level`. A directive is a level (`info`) or
/// `target=level`; anything else, `nonsense` included, is refused rather than silently
/// matching no target.
fn log_filter(log_level: &str) -> anyhow::Result<EnvFilter> {
    let (source, directives) = match std::env::var("RUST_LOG") {
        Ok(value) => ("RUST_LOG", value),
        Err(std::env::VarError::NotPresent) => ("--log-level", log_level.to_owned()),
        Err(std::env::VarError::NotUnicode(_)) => bail!("RUST_LOG is not valid UTF-8"),
    };
    let levels = ["off", "error", "warn", "info", "debug", "trace"];
    let well_formed = directives.split(',').all(|directive| {
        let level = directive
            .rsplit_once('=')
            .map_or(directive, |(_, level)| level);
        levels.iter().any(|l| level.trim().eq_ignore_ascii_case(l))
    });
    let filter = well_formed
        .then(|| EnvFilter::builder().parse(&directives).ok())
        .flatten();
    filter.ok_or_else(|| {
        anyhow::anyhow!(
            "{source} {directives:?} is not a log filter: use a level (off, error, warn, info, \
             debug, trace) or `target=level` directives separated by commas, e.g. \
             `info,tessera_service=debug`"
        )
    })
}

/// Logs to standard error through `filter`, in `format`.
fn init_logs(filter: EnvFilter, format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().with_ansi(false).init(),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logs(log_filter(&args.log_level)?, args.log_format);
    if let Some(descriptors) = listener::raise_descriptor_limit() {
        tracing::debug!(descriptors, "descriptor limit");
    }
    // Bind first: a taken address must not leave a new data directory behind.
    let listener = bind(args.listen, "--listen").await?;
    let http = match args.http_listen {
        HttpListen::Off => None,
        HttpListen::On(addr) => Some(bind(addr, "--http-listen").await?),
    };
    let metrics = match args.metrics_listen {
        Some(addr) => Some(bind(addr, "--metrics-listen").await?),
        None => None,
    };
    let config = args.config();
    let limits = config.limits;
    let server = crate::Server::open(config)?;
    let reloads = tokio::spawn(reload_on_hangup(server.key_reloader()));
    let metrics = metrics.map(|metrics| {
        if let Ok(addr) = metrics.local_addr() {
            tracing::info!(%addr, "serving /metrics");
        }
        tokio::spawn(listener::serve(
            metrics,
            "metrics",
            listener::Protocols::Http1And2,
            limits,
            crate::http::metrics_router(),
            crate::http::response::timed_out,
            core::future::pending(),
        ))
    });
    let served = server
        .serve_with_http(listener, http, shutdown_signal())
        .await;
    reloads.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    Ok(served?)
}

/// Re-reads the keys file on every SIGHUP (the reload logs what it now holds, or its error).
async fn reload_on_hangup(reloader: crate::KeyReloader) {
    let mut hangups = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => signal,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP: keys reload only on restart");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        tracing::info!(path = %reloader.path().display(), "SIGHUP: reloading the keys file");
        let reloader = reloader.clone();
        // The reload reads a file and writes the key records: off the async workers.
        let _ = tokio::task::spawn_blocking(move || reloader.reload()).await;
    }
}

/// Where `--http-listen` serves, or that it does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpListen {
    /// No HTTP listener: gRPC only.
    Off,
    /// This address.
    On(SocketAddr),
}

fn parse_http_listen(value: &str) -> Result<HttpListen, String> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(HttpListen::Off);
    }
    value
        .parse()
        .map(HttpListen::On)
        .map_err(|e| format!("{e}: expected HOST:PORT or `off`"))
}

/// Binds `addr`, or explains why not, naming the flag that chose it.
async fn bind(addr: SocketAddr, flag: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                format!("another process (a running server?) listens there: stop it or choose another {flag}")
            }
            std::io::ErrorKind::PermissionDenied => {
                format!("ports below 1024 need privileges: choose another {flag}")
            }
            _ => format!("choose another {flag}"),
        };
        anyhow::anyhow!("cannot listen on {addr}: {e}; {hint}")
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                core::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
