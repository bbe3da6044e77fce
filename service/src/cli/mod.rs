//! The `tessera` command line: `serve`, `keys rotate`, and client commands that call a running
//! server (`register`, `issue-code`, `exchange`, `introspect`, `revoke`, `health`, `pkce`, `demo`).

pub mod client;
pub mod demo;

use core::net::SocketAddr;
use core::time::Duration;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tessera_core::MAX_CODE_LIFETIME;
use tracing_subscriber::EnvFilter;

use crate::config::Config;
use crate::listener::{self, Limits};

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
    /// Manage the master keys in a data directory.
    Keys {
        /// The key operation.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Register a client (operator).
    Register(client::RegisterArgs),
    /// Issue an authorization code for a signed-in user (operator).
    IssueCode(client::IssueCodeArgs),
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

/// `tessera keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new active master key; older keys keep verifying (restart the server to use it).
    Rotate {
        /// The server's data directory.
        #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
        data_dir: PathBuf,
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

/// `tessera serve` flags; each can also come from its `TESSERA_*` environment variable.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TESSERA_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory of the database, master keys and operator token.
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
    pub data_dir: PathBuf,
    /// Issuer name (`iss` in introspection).
    #[arg(long, env = "TESSERA_ISSUER", default_value = "tessera")]
    pub issuer: String,
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
    /// Log filter (`info`, `debug`, `tessera_service=debug`, ...); `RUST_LOG` overrides it.
    #[arg(long, env = "TESSERA_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

impl ServeArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> Config {
        Config {
            data_dir: self.data_dir.clone(),
            issuer: self.issuer.clone(),
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

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the command failed with (a client command: the server's status).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Keys {
            command: KeysCommand::Rotate { data_dir },
        } => {
            let rng =
                crate::rng::SharedRng::from_os().map_err(|e| anyhow::anyhow!("no entropy: {e}"))?;
            let id = crate::keys::rotate(&data_dir, &rng)?;
            println!("new active key {id}; restart the server to mint with it");
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::ExportGateway { data_dir, out },
        } => crate::gateway::run(&data_dir, out.as_deref()),
        Command::Register(args) => client::register(args).await,
        Command::IssueCode(args) => client::issue_code(args).await,
        Command::Exchange(args) => client::exchange(args).await,
        Command::Introspect(args) => client::introspect(args).await,
        Command::Revoke(args) => client::revoke(args).await,
        Command::Health(args) => client::health(args).await,
        Command::Pkce(args) => client::pkce(&args),
        Command::Demo(args) => demo::run(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let filter =
        EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&args.log_level))?;
    tracing_subscriber::fmt().with_env_filter(filter).init();
    if let Some(descriptors) = listener::raise_descriptor_limit() {
        tracing::debug!(descriptors, "descriptor limit");
    }
    let server = crate::Server::open(args.config())?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    server.serve(listener, shutdown_signal()).await
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
