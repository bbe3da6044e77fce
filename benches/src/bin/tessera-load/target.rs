//! The server under load: one started in-process on a free loopback port, or a running one.

use std::path::Path;

use tessera_service::store::PostgresUrl;
use tessera_service::{Config, Server, StoreConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

/// Where to send requests, and the operator credential for setup calls.
#[derive(Debug)]
pub(crate) struct Target {
    uri: String,
    pub(crate) operator: MetadataValue<tonic::metadata::Ascii>,
    server: Option<Running>,
}

#[derive(Debug)]
struct Running {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<Result<(), tessera_service::ServerError>>,
    _data_dir: tempfile::TempDir,
}

impl Target {
    /// Starts a server on 127.0.0.1:0 with the embedded store in a temporary data dir, or
    /// with the PostgreSQL store `postgres` (an empty database: the keys go in the temporary
    /// data dir).
    pub(crate) async fn start(postgres: Option<&PostgresUrl>) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let mut config = Config::new(data_dir.path());
        if let Some(url) = postgres {
            config.store = StoreConfig::Postgres { url: url.clone() };
        }
        let server = Server::open(config)?;
        let operator = read_operator_token(server.operator_token_path())?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let uri = format!("http://{}", listener.local_addr()?);
        let (shutdown, stopped) = oneshot::channel();
        let task = tokio::spawn(server.serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            uri,
            operator,
            server: Some(Running {
                shutdown,
                task,
                _data_dir: data_dir,
            }),
        })
    }

    /// Targets a running server.
    pub(crate) async fn remote(addr: &str, operator_token_file: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            uri: format!("http://{addr}"),
            operator: read_operator_token(operator_token_file)?,
            server: None,
        })
    }

    /// `n` HTTP/2 connections.
    pub(crate) async fn channels(&self, n: usize) -> anyhow::Result<Vec<Channel>> {
        let endpoint = Endpoint::from_shared(self.uri.clone())?.tcp_nodelay(true);
        let mut channels = Vec::with_capacity(n);
        for _ in 0..n {
            channels.push(endpoint.connect().await?);
        }
        Ok(channels)
    }

    /// Stops the server this process started, if any.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        if let Some(running) = self.server {
            let _ = running.shutdown.send(());
            running.task.await??;
        }
        Ok(())
    }
}

fn read_operator_token(path: &Path) -> anyhow::Result<MetadataValue<tonic::metadata::Ascii>> {
    let token = std::fs::read_to_string(path)?;
    Ok(format!("Bearer {}", token.trim()).parse()?)
}
