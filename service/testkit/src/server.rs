//! A real server on 127.0.0.1:0 over a data directory, the real generated client, and the
//! requests of the authorization-code flow (RFC 6749 §4.1) with the RFC 7636 Appendix B pair.

use core::net::SocketAddr;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{
    ExchangeRequest, ExchangeResponse, IntrospectRequest, IntrospectResponse, IssueCodeRequest,
    RegisterRequest, RegisterResponse,
};
use tessera_service::{Config, Server, StoreConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Request, Status};

pub use crate::pkce::{CHALLENGE, VERIFIER};

/// The redirect URI every client [`TestServer::register`] registers has, and every code request
/// and exchange here uses.
pub const REDIRECT_URI: &str = "https://app.example/callback";

/// The store a test server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    /// The embedded redb store in the data directory.
    Redb,
    /// A new database of the test kit's PostgreSQL server ([`TestPostgres::shared`]).
    ///
    /// [`TestPostgres::shared`]: crate::postgres::TestPostgres::shared
    Postgres,
}

impl On {
    /// `config` set to run on this store (redb: unchanged).
    pub fn configure(self, config: &mut Config) {
        if self == Self::Postgres {
            config.store = StoreConfig::Postgres {
                url: crate::postgres::TestPostgres::shared().database(),
            };
        }
    }
}

/// A [`Server`] serving gRPC and HTTP on 127.0.0.1, on ports of its own, in this process.
#[derive(Debug)]
pub struct TestServer {
    /// Where it serves gRPC.
    pub addr: SocketAddr,
    /// Where it serves the OAuth HTTP endpoints.
    pub http_addr: SocketAddr,
    /// Its operator token.
    pub operator: String,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
    /// The data directory of [`temporary`](Self::temporary), removed once the server stopped.
    dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Starts a server with the default configuration over a data directory of its own, removed
    /// after [`stop`](Self::stop).
    pub async fn temporary() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Self::start(dir.path()).await;
        server.dir = Some(dir);
        server
    }

    /// [`temporary`](Self::temporary) on the store `on`.
    pub async fn temporary_on(on: On) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path());
        on.configure(&mut config);
        let mut server = Self::start_with(config).await;
        server.dir = Some(dir);
        server
    }

    /// Starts a server with the default configuration over the data directory `dir`.
    pub async fn start(dir: &Path) -> Self {
        Self::start_with(Config::new(dir)).await
    }

    /// Starts a server with `config`. Its issuer is the HTTP listener's URL, whatever `config`
    /// says, so the metadata document names endpoints that answer.
    pub async fn start_with(config: Config) -> Self {
        Self::start_with_clock(config, tessera_service::SystemClock::shared()).await
    }

    /// A server whose time is `clock`: a test advances it instead of sleeping.
    pub async fn start_with_clock(mut config: Config, clock: tessera_service::SharedClock) -> Self {
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http_addr = http.local_addr().unwrap();
        config.issuer = format!("http://{http_addr}");
        let server = Server::open_with(config, clock).unwrap();
        let operator = std::fs::read_to_string(server.operator_token_path())
            .unwrap()
            .trim()
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let serve = server.serve_with_http(listener, Some(http), async {
            let _ = rx.await;
        });
        // A server error fails the test at `stop`.
        let handle = tokio::spawn(async move {
            if let Err(e) = serve.await {
                panic!("the server failed: {e:?}");
            }
        });
        Self {
            addr,
            http_addr,
            operator,
            shutdown: Some(tx),
            handle: Some(handle),
            dir: None,
        }
    }

    /// The base URL of its HTTP endpoints: its issuer.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// A client on a connection of its own.
    pub async fn client(&self) -> TokenServiceClient<Channel> {
        TokenServiceClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }

    /// A client whose connection comes from `source` (any of 127.0.0.0/8 is this machine), to
    /// tell an attacker's address from a legitimate caller's.
    pub async fn client_from(&self, source: core::net::IpAddr) -> TokenServiceClient<Channel> {
        let server = self.addr;
        let connector = tower_service_fn(move || async move {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(core::net::SocketAddr::new(source, 0))?;
            let stream = socket.connect(server).await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
        });
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{server}"))
            .unwrap()
            .connect_with_connector(connector)
            .await
            .unwrap();
        TokenServiceClient::new(channel)
    }

    /// A connection to share between clients.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Asserts that gRPC health reports the server and the token service SERVING.
    pub async fn assert_serving(&self) {
        use tonic_health::pb::HealthCheckRequest;
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::health_client::HealthClient;

        let mut health = HealthClient::new(self.channel().await);
        for service in ["", "tessera.v1.TokenService"] {
            let answer = health
                .check(HealthCheckRequest {
                    service: service.to_owned(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
        }
    }

    /// Stops the server and waits until it has released the data directory.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap();
        }
    }

    /// `message` with the operator token.
    pub fn operator<T>(&self, message: T) -> Request<T> {
        with_auth(message, &format!("Bearer {}", self.operator))
    }

    /// Registers a confidential client with [`REDIRECT_URI`].
    pub async fn register(&self, name: &str, scope: &str) -> RegisterResponse {
        self.try_register(RegisterRequest {
            client_name: name.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            scope: scope.to_owned(),
            public_client: false,
        })
        .await
        .unwrap()
    }

    /// Sends `request` as the operator.
    ///
    /// # Errors
    /// The server's refusal.
    pub async fn try_register(&self, request: RegisterRequest) -> Result<RegisterResponse, Status> {
        self.client()
            .await
            .register(self.operator(request))
            .await
            .map(tonic::Response::into_inner)
    }

    /// A code for `client` with the RFC 7636 challenge.
    pub async fn code(&self, client_id: &str, scope: &str, audience: &[&str]) -> String {
        self.try_code(code_request(client_id, scope, audience))
            .await
            .unwrap()
    }

    /// The register→code→exchange preamble: a code for `client` with `scope` (no audience),
    /// exchanged by `client` for its first tokens.
    pub async fn tokens(&self, client: &RegisterResponse, scope: &str) -> ExchangeResponse {
        let code = self.code(&client.client_id, scope, &[]).await;
        exchange(&mut self.client().await, client, code_exchange(&code))
            .await
            .unwrap()
    }

    /// Asks for a code as the operator.
    ///
    /// # Errors
    /// The server's refusal.
    pub async fn try_code(&self, request: IssueCodeRequest) -> Result<String, Status> {
        self.client()
            .await
            .issue_code(self.operator(request))
            .await
            .map(|r| r.into_inner().code)
    }
}

/// A code request for `client_id` with [`REDIRECT_URI`], subject `alice` and [`CHALLENGE`].
pub fn code_request(client_id: &str, scope: &str, audience: &[&str]) -> IssueCodeRequest {
    IssueCodeRequest {
        client_id: client_id.to_owned(),
        redirect_uri: REDIRECT_URI.to_owned(),
        scope: scope.to_owned(),
        subject: "alice".to_owned(),
        code_challenge: CHALLENGE.to_owned(),
        code_challenge_method: "S256".to_owned(),
        audience: audience.iter().map(|a| (*a).to_owned()).collect(),
    }
}

/// `message` with the `authorization` metadata.
pub fn with_auth<T>(message: T, authorization: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", authorization.parse().unwrap());
    request
}

/// `message` with `client`'s Basic credentials (RFC 6749 §2.3.1).
pub fn basic<T>(message: T, client: &RegisterResponse) -> Request<T> {
    with_auth(
        message,
        &tessera_service::credentials::basic_header(&client.client_id, &client.client_secret),
    )
}

/// An `authorization_code` exchange of `code` with [`REDIRECT_URI`] and [`VERIFIER`].
pub fn code_exchange(code: &str) -> ExchangeRequest {
    ExchangeRequest {
        grant_type: "authorization_code".to_owned(),
        code: code.to_owned(),
        redirect_uri: REDIRECT_URI.to_owned(),
        code_verifier: VERIFIER.to_owned(),
        ..ExchangeRequest::default()
    }
}

/// A `refresh_token` exchange, narrowed to `scope` if not empty.
pub fn refresh_exchange(refresh_token: &str, scope: &str) -> ExchangeRequest {
    ExchangeRequest {
        grant_type: "refresh_token".to_owned(),
        refresh_token: refresh_token.to_owned(),
        scope: scope.to_owned(),
        ..ExchangeRequest::default()
    }
}

/// Exchanges as `client`.
///
/// # Errors
/// The server's refusal.
pub async fn exchange(
    api: &mut TokenServiceClient<Channel>,
    client: &RegisterResponse,
    request: ExchangeRequest,
) -> Result<ExchangeResponse, Status> {
    api.exchange(basic(request, client))
        .await
        .map(tonic::Response::into_inner)
}

/// Introspects `token` as `caller`.
///
/// # Errors
/// The server's refusal.
pub async fn try_introspect(
    api: &mut TokenServiceClient<Channel>,
    caller: &RegisterResponse,
    token: &str,
) -> Result<IntrospectResponse, Status> {
    api.introspect(basic(
        IntrospectRequest {
            token: token.to_owned(),
            token_type_hint: String::new(),
        },
        caller,
    ))
    .await
    .map(tonic::Response::into_inner)
}

/// True if `token` introspects active for `caller`, which must not be refused.
pub async fn active(
    api: &mut TokenServiceClient<Channel>,
    caller: &RegisterResponse,
    token: &str,
) -> bool {
    introspect(api, caller, token).await.active
}

/// Introspects `token` as `caller`, which must not be refused.
pub async fn introspect(
    api: &mut TokenServiceClient<Channel>,
    caller: &RegisterResponse,
    token: &str,
) -> IntrospectResponse {
    try_introspect(api, caller, token).await.unwrap()
}

/// Asserts a refusal's gRPC code and its RFC 6749 error code prefix.
pub fn assert_refused<T: core::fmt::Debug>(
    result: Result<T, Status>,
    code: tonic::Code,
    oauth: &str,
) {
    let status = result.unwrap_err();
    assert_eq!(status.code(), code, "{}", status.message());
    assert!(
        status.message().starts_with(&format!("{oauth}: ")),
        "expected {oauth}: {}",
        status.message()
    );
}

/// Every file of a data directory and its bytes: the durable state a refused request must not
/// change (reads never write the database file).
pub fn data_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

/// A connector (a `tower` service from `Uri` to a connection) that ignores the URI.
pub fn tower_service_fn<F, Fut, T>(make: F) -> ConnectFn<F>
where
    F: Fn() -> Fut,
    Fut: core::future::Future<Output = std::io::Result<T>>,
{
    ConnectFn(make)
}

/// See [`tower_service_fn`].
#[derive(Clone, Debug)]
pub struct ConnectFn<F>(F);

impl<F, Fut, T> tower_service::Service<http::Uri> for ConnectFn<F>
where
    F: Fn() -> Fut,
    Fut: core::future::Future<Output = std::io::Result<T>>,
{
    type Response = T;
    type Error = std::io::Error;
    type Future = Fut;

    fn poll_ready(
        &mut self,
        _: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<(), Self::Error>> {
        core::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Fut {
        (self.0)()
    }
}
