//! The seed flow, end to end, in a browser: Tessera and the three parties of its story on
//! loopback ports, started by one command.
//!
//! ```sh
//! cargo run -p tessera-service --example seed_flow
//! ```
//!
//! It starts a Tessera server in this process (gRPC and the OAuth HTTP endpoints, over a
//! temporary data directory removed on exit), then
//! - the **photo API** (`photo_api.rs`), a resource server registered with Tessera over gRPC;
//! - the **login and consent app** (`login.rs`), Tessera's `--login-url`;
//! - **Photo Printer** (`photo_printer.rs`), the client web app, which discovers Tessera's
//!   endpoints and registers itself over HTTP (RFC 7591) with the operator token;
//!
//! and prints the URL to open. `service/tests/browser/run.sh` drives it in headless Chromium.

mod login;
mod page;
mod photo_api;
mod photo_printer;
mod request;

use core::net::SocketAddr;
use std::io::{IsTerminal as _, Write as _};

use anyhow::Context as _;
use axum::Router;
use tessera_proto::v1::RegisterRequest;
use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_service::listener::{self, Protocols};
use tessera_service::{Config, Limits, Server};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tracing_subscriber::EnvFilter;
use zeroize::Zeroizing;

/// How long Photo Printer keeps an idle connection to Tessera or the photo API.
const IDLE_CONNECTION: core::time::Duration = core::time::Duration::from_secs(4);
/// Largest form the apps read.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Tessera and the three apps, running.
#[derive(Debug)]
struct Demo {
    issuer: String,
    grpc: SocketAddr,
    login: SocketAddr,
    api: SocketAddr,
    printer: SocketAddr,
    /// The photo API's client id: the audience its tokens must name.
    api_client_id: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    /// The data directory, removed once the server stopped.
    dir: tempfile::TempDir,
}

impl Demo {
    async fn start() -> anyhow::Result<Self> {
        let bind = || TcpListener::bind("127.0.0.1:0");
        let (grpc, http, login, api, printer) = (
            bind().await?,
            bind().await?,
            bind().await?,
            bind().await?,
            bind().await?,
        );
        let addr = |l: &TcpListener| l.local_addr();
        let (grpc_addr, login_addr, api_addr, printer_addr) =
            (addr(&grpc)?, addr(&login)?, addr(&api)?, addr(&printer)?);
        let issuer = format!("http://{}", addr(&http)?);

        let dir = tempfile::tempdir()?;
        // The data directory holds the keys: private to this user, as `tessera serve` expects.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )?;
        let mut config = Config::new(dir.path());
        config.issuer = issuer.clone();
        config.login_url = Some(format!("http://{login_addr}/login"));
        let server = Server::open(config)?;
        let operator = Zeroizing::new(
            std::fs::read_to_string(server.operator_token_path())?
                .trim()
                .to_owned(),
        );
        let (stop, stopped) = watch::channel(false);
        let until_stopped = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        };
        let mut tasks = vec![tokio::spawn({
            let shutdown = until_stopped();
            async move { Ok(server.serve_with_http(grpc, Some(http), shutdown).await?) }
        })];

        let channel = Channel::from_shared(format!("http://{grpc_addr}"))?.connect_lazy();
        let registered = TokenServiceClient::new(channel.clone())
            .register(with_operator(
                RegisterRequest {
                    client_name: "Photo API".to_owned(),
                    redirect_uris: vec!["https://photos.example/unused".to_owned()],
                    scope: String::new(),
                    public_client: false,
                },
                &operator,
            )?)
            .await
            .context("registering the photo API")?
            .into_inner();
        let api_app = photo_api::PhotoApi::new(
            channel.clone(),
            &registered.client_id,
            &registered.client_secret,
        );

        // A server closes a kept-alive connection once idle (Tessera: --idle-timeout) and a pooled
        // one reused at that instant fails: the app lets go of idle connections well before.
        let http_client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(IDLE_CONNECTION)
            .build()?;
        let metadata = photo_printer::discover(&http_client, &issuer).await?;
        let base = format!("http://{printer_addr}");
        let client = photo_printer::register(
            &http_client,
            &metadata,
            &operator,
            &format!("{base}/callback"),
        )
        .await
        .context("registering Photo Printer")?;
        let printer_app = photo_printer::PhotoPrinter::new(
            base,
            client,
            metadata,
            (format!("http://{api_addr}"), registered.client_id.clone()),
            http_client,
        )?;

        for (listener, router) in [
            (api, photo_api::router(api_app)),
            (
                login,
                login::router(login::LoginApp::new(channel, &operator)?),
            ),
            (printer, photo_printer::router(printer_app)),
        ] {
            tasks.push(tokio::spawn(serve(listener, router, until_stopped())));
        }
        Ok(Self {
            issuer,
            grpc: grpc_addr,
            login: login_addr,
            api: api_addr,
            printer: printer_addr,
            api_client_id: registered.client_id,
            stop,
            tasks,
            dir,
        })
    }

    /// Stops every listener and waits for them.
    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        for task in self.tasks {
            task.await??;
        }
        // Only now that the server has closed its store.
        self.dir.close()?;
        Ok(())
    }
}

/// Serves one app with the limits Tessera's own listeners have.
async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let router = router.layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BYTES));
    let timed_out = tessera_service::http::response::timed_out;
    Ok(listener::serve(
        listener,
        "seed_flow",
        Protocols::Http1And2,
        Limits::default(),
        router,
        timed_out,
        shutdown,
    )
    .await?)
}

/// `message` with the operator token.
fn with_operator<T>(message: T, operator: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {operator}").parse()?);
    Ok(request)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let demo = Demo::start().await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Tessera issuer       {} (gRPC {})",
            demo.issuer, demo.grpc
        )?;
        writeln!(out, "login and consent    http://{}/login", demo.login)?;
        writeln!(
            out,
            "photo API            http://{}/photos (client id {})",
            demo.api, demo.api_client_id
        )?;
        writeln!(
            out,
            "Open http://{}/ in a browser; sign in as alice, password wonderland. Ctrl-C stops.",
            demo.printer
        )?;
        out.flush()?;
    }
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    demo.stop().await
}

#[cfg(test)]
mod tests;
