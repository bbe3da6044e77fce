//! Starting the server: its state from the configured store ([`StoreConfig`]), then the gRPC
//! services (tessera.v1, grpc.health.v1, reflection v1 and v1alpha) behind one tower
//! `ServiceBuilder` stack, and the OAuth HTTP endpoints ([`http`](crate::http)) on a listener of
//! their own, until a shutdown signal.

use core::future::Future;
use core::time::Duration;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tessera_proto::v1::token_service_server::TokenServiceServer;
use tokio::net::TcpListener;
use tonic::Status;
use tonic::service::Routes;
use tower::ServiceBuilder;

use crate::authority::Authority;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, InvalidConfig, StoreConfig};
use crate::datadir::{self, DataDirError};
use crate::grpc::TokenApi;
use crate::keys::{self, KeySource};
use crate::limit::SizeLimitLayer;
use crate::listener::{self, Protocols};
use crate::rng::SharedRng;
use crate::store::{Backend, PostgresStore, Store, StoreError};
use tessera_core::{KeyId, Keyring};

/// Largest request message accepted by every service: ample for any Tessera request (the largest,
/// a `Register` with 16 redirect URIs of 512 bytes, is under 9 KiB), and a 10 MB token is refused
/// before it is decoded, with `RESOURCE_EXHAUSTED` ([`SizeLimit`](crate::limit::SizeLimit)).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// The status message of a request that did not finish within the request timeout.
pub const TIMED_OUT: &str = "invalid_request: the request did not complete in time";
/// How often expired spent codes, revocations, refresh families and throttle windows are purged.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// Why a server could not open or serve. Its text names the file or setting and the fix.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerError {
    /// A setting out of its range.
    Config(InvalidConfig),
    /// The operating system gave no entropy to seed the generator.
    Entropy(getrandom::Error),
    /// The data directory is missing a part, damaged or mismatched.
    DataDir(DataDirError),
    /// The store could not be opened (PostgreSQL unreachable, refusing, or newer).
    Store {
        /// Where it is, without the password.
        url: String,
        /// Why.
        source: StoreError,
    },
    /// The reflection service could not be built.
    Reflection(tonic_reflection::server::Error),
    /// The listener failed.
    Io(io::Error),
}

impl core::fmt::Display for ServerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Config(e) => write!(f, "{e}"),
            Self::Entropy(e) => write!(f, "no entropy from the operating system: {e}"),
            Self::DataDir(e) => write!(f, "{e}"),
            Self::Store { url, source } => write!(f, "cannot open the store at {url}: {source}"),
            Self::Reflection(e) => write!(f, "cannot build the reflection service: {e}"),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for ServerError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::Entropy(e) => Some(e),
            Self::DataDir(e) => Some(e),
            Self::Store { source, .. } => Some(source),
            Self::Reflection(e) => Some(e),
            Self::Io(e) => Some(e),
        }
    }
}

impl From<DataDirError> for ServerError {
    fn from(e: DataDirError) -> Self {
        Self::DataDir(e)
    }
}

/// What re-reads a keys file and checks it against the store's key records: one per backend.
type LoadKeys = dyn Fn(&Path, u64) -> Result<(Keyring, LoadedKeys), DataDirError> + Send + Sync;

/// The key ids a server holds, oldest first, and the one it mints with.
pub type LoadedKeys = (Vec<KeyId>, KeyId);

/// Re-reads a running server's keys file and puts its keyring in force: what `SIGHUP` does.
/// Cheap to clone; every clone reloads the same server.
#[derive(Clone)]
pub struct KeyReloader {
    source: Arc<KeySource>,
    path: PathBuf,
    clock: SharedClock,
    load: Arc<LoadKeys>,
}

impl core::fmt::Debug for KeyReloader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyReloader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KeyReloader {
    /// The keys file it reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the keys file whole, checks it (private, well-formed, an active key, consistent
    /// with the store's key records), records it, builds its keyring, and only then swaps it in:
    /// a request sees the old key set or the new one, never a mix. Logs the ids it now holds and
    /// the active one at INFO; on any failure logs an ERROR naming the file, and the keyring in
    /// force stays.
    ///
    /// # Errors
    /// The file's problem, naming it and the fix.
    pub fn reload(&self) -> Result<LoadedKeys, DataDirError> {
        match (self.load)(&self.path, self.clock.now()) {
            Ok((keyring, (ids, active))) => {
                self.source.replace(keyring);
                tracing::info!(
                    path = %self.path.display(),
                    keys = %id_list(&ids),
                    active = %active,
                    "reloaded the keys file"
                );
                Ok((ids, active))
            }
            Err(e) => {
                tracing::error!(
                    path = %self.path.display(),
                    error = %e,
                    "cannot reload the keys file: the keys in force stay"
                );
                Err(e)
            }
        }
    }
}

/// `1, 2, 3`.
fn id_list(ids: &[KeyId]) -> String {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    ids.join(", ")
}

/// A server whose state is open and ready to serve, over the store `S` (by default the
/// [`Backend`] its [`StoreConfig`] selected).
#[derive(Debug)]
pub struct Server<S = Backend> {
    authority: Arc<Authority<S>>,
    operator: Arc<keys::OperatorToken>,
    operator_token_path: PathBuf,
    reloader: KeyReloader,
}

impl Server {
    /// Opens the configured store. For [`StoreConfig::Embedded`], the data directory
    /// ([`datadir::open`]): creates all of it on first start, else checks every part and
    /// refuses a missing, damaged or mismatched one, changing nothing. For
    /// [`StoreConfig::Postgres`], the database (creating or upgrading its schema) and the key
    /// files of `config.key_files` ([`datadir::open_shared`]).
    ///
    /// # Errors
    /// A bad setting, or a data directory problem naming the file and the fix.
    pub fn open(config: Config) -> Result<Self, ServerError> {
        Self::open_with(config, SystemClock::shared())
    }

    /// [`Server::open`] with time read from `clock` (tests advance a
    /// [`ManualClock`](crate::clock::ManualClock) instead of sleeping).
    ///
    /// # Errors
    /// See [`Server::open`].
    pub fn open_with(config: Config, clock: SharedClock) -> Result<Self, ServerError> {
        config.validate().map_err(ServerError::Config)?;
        let rng = SharedRng::from_os().map_err(ServerError::Entropy)?;
        let (keyring, (ids, active), operator, store, load) = match &config.store {
            StoreConfig::Postgres { url } => {
                let store = PostgresStore::open(url)
                    .map_err(|source| ServerError::Store {
                        url: url.redacted().to_owned(),
                        source,
                    })?
                    .with_clock(Arc::clone(&clock));
                let datadir::SharedKeys {
                    keyring,
                    ids,
                    operator,
                } = datadir::open_shared(&config, &rng, clock.now(), &store)?;
                let recorder = store.clone();
                let settings = config.clone();
                let load: Arc<LoadKeys> = Arc::new(move |path: &Path, now: u64| {
                    datadir::reload_shared(path, &recorder, &settings, now)
                });
                (keyring, ids, operator, Backend::from(store), load)
            }
            StoreConfig::Embedded { data_dir } => {
                let datadir::Opened {
                    keyring,
                    ids,
                    operator,
                    store,
                } = datadir::open(data_dir, &config, &rng, clock.now())?;
                let database = data_dir.join(crate::store::DATABASE_FILE);
                let recorder = store.clone();
                let settings = config.clone();
                let load: Arc<LoadKeys> = Arc::new(move |path: &Path, now: u64| {
                    datadir::reload(path, &recorder, &database, &settings, now)
                });
                let store = Backend::from(store.with_clock(Arc::clone(&clock)));
                (keyring, ids, operator, store, load)
            }
        };
        let operator_token_path = config.key_files.operator_token.clone();
        tracing::info!(path = %operator_token_path.display(), "operator token");
        tracing::info!(
            path = %config.key_files.keys.display(),
            keys = %id_list(&ids),
            active = %active,
            "master keys"
        );
        let keys = Arc::new(KeySource::new(keyring));
        let reloader = KeyReloader {
            source: Arc::clone(&keys),
            path: config.key_files.keys.clone(),
            clock: Arc::clone(&clock),
            load,
        };
        Ok(Self {
            authority: Arc::new(Authority::new(store, keys, rng, clock, config)),
            operator: Arc::new(operator),
            operator_token_path,
            reloader,
        })
    }
}

impl<S: Store> Server<S> {
    /// Where the operator token is (its contents are never logged).
    pub fn operator_token_path(&self) -> &Path {
        &self.operator_token_path
    }

    /// The keyring in force, replaceable while the server runs (live rotation).
    pub fn keys(&self) -> &KeySource {
        self.authority.keys()
    }

    /// What re-reads the keys file into this server (on `SIGHUP`, `tessera serve` calls it).
    pub fn key_reloader(&self) -> KeyReloader {
        self.reloader.clone()
    }

    /// Serves gRPC on `listener` until `shutdown` completes, then drains in-flight requests and
    /// closes the store.
    ///
    /// # Errors
    /// A transport or reflection setup failure.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        self.serve_with_http(listener, None, shutdown).await
    }

    /// Serves gRPC on `grpc` and, if given, the OAuth HTTP endpoints on `http`, each within the
    /// configured [`Limits`](crate::Limits), until `shutdown` completes; then both drain.
    ///
    /// # Errors
    /// A transport or reflection setup failure.
    pub async fn serve_with_http(
        self,
        grpc: TcpListener,
        http: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServerError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<TokenServiceServer<TokenApi<S>>>()
            .await;
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(tessera_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(ServerError::Reflection)?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(tessera_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(ServerError::Reflection)?;
        let api = TokenServiceServer::new(TokenApi::new(
            Arc::clone(&self.authority),
            Arc::clone(&self.operator),
        ))
        .max_decoding_message_size(MAX_REQUEST_BYTES);
        let routes = Routes::new(health_service.max_decoding_message_size(MAX_REQUEST_BYTES))
            .add_service(reflection_v1.max_decoding_message_size(MAX_REQUEST_BYTES))
            .add_service(reflection_v1alpha.max_decoding_message_size(MAX_REQUEST_BYTES))
            .add_service(api)
            .prepare();
        // Every request passes this one stack (metrics and timeouts will join it here).
        let service = ServiceBuilder::new().layer(SizeLimitLayer).service(routes);

        let purger = tokio::spawn(purge_forever(Arc::clone(&self.authority)));
        let limits = self.authority.config().limits;
        // One shutdown for both listeners.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let until_stopped = || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        };
        if let Ok(addr) = grpc.local_addr() {
            tracing::info!(%addr, "serving tessera.v1.TokenService");
        }
        let grpc_served = listener::serve(
            grpc,
            Protocols::Http2,
            limits,
            service,
            timed_out,
            until_stopped(),
        );
        let http_served = async {
            let Some(http) = http else {
                return Ok(());
            };
            if let Ok(addr) = http.local_addr() {
                tracing::info!(%addr, issuer = %self.authority.config().issuer,
                    "serving the OAuth endpoints (HTTP)");
            }
            if self.authority.config().login_url.is_none() {
                tracing::warn!(
                    "no --login-url: the authorization endpoint cannot send anyone to sign in"
                );
            }
            let router =
                crate::http::router(Arc::clone(&self.authority), Arc::clone(&self.operator));
            listener::serve(
                http,
                Protocols::Http1And2,
                limits,
                router,
                crate::http::response::timed_out,
                until_stopped(),
            )
            .await
        };
        let signal = async {
            shutdown.await;
            let _ = stop.send(true);
        };
        let ((), grpc_served, http_served) = tokio::join!(signal, grpc_served, http_served);
        purger.abort();
        let _ = purger.await;
        tracing::info!("server stopped");
        grpc_served.and(http_served).map_err(ServerError::Io)
    }
}

fn timed_out() -> http::Response<tonic::body::Body> {
    Status::deadline_exceeded(TIMED_OUT).into_http()
}

async fn purge_forever<S: Store>(authority: Arc<Authority<S>>) {
    // The first purge waits one interval: a write at start-up would race requests that expect
    // the data directory untouched, and entries expired meanwhile do not verify anyway.
    let first = tokio::time::Instant::now() + PURGE_INTERVAL;
    let mut ticks = tokio::time::interval_at(first, PURGE_INTERVAL);
    loop {
        ticks.tick().await;
        let now = authority.now();
        match authority.store().purge_expired(now).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "purged expired entries"),
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
    }
}

/// Opens the configured store and serves on `listener` until `shutdown`: the entry point for
/// tests and embedders.
///
/// # Errors
/// See [`Server::open`] and [`Server::serve`].
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    Server::open(config)?.serve(listener, shutdown).await
}
