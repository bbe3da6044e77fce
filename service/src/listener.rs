//! Serving a TCP listener so that a stranger cannot hold more than a fixed share of the server:
//! a cap on connections, on streams per connection and on header size, a deadline for a
//! connection's first request, an idle limit, a deadline per request that also covers a body
//! that never finishes, HTTP/2 keepalive pings, and back-off when the process runs out of file
//! descriptors. Every listener the server opens goes through [`serve`].

use core::future::Future;
use core::net::SocketAddr;
use core::pin::pin;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower_service::Service;

use crate::meter::{GaugeGuard, ListenerGauges};

/// Most bytes of request headers on one stream (HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE`): gRPC
/// and OAuth requests send a few hundred.
pub const MAX_HEADER_LIST_BYTES: u32 = 8 * 1024;
/// HTTP/1.1 read buffer: a request's line and headers must fit (hyper's minimum is 8 KiB).
const HTTP1_BUFFER_BYTES: usize = 16 * 1024;
const _: () = assert!(HTTP1_BUFFER_BYTES >= 8192, "hyper's minimum buffer");
/// Most header fields in one HTTP/1.1 request.
const HTTP1_MAX_HEADERS: usize = 64;
/// HTTP/2 flow-control windows: a connection cannot have more request bytes in flight than the
/// server has read, so a stalled stream holds at most this much in the transport.
const CONNECTION_WINDOW: u32 = 256 * 1024;
const STREAM_WINDOW: u32 = 64 * 1024;
/// Locally reset streams allowed on one connection before it is closed with GOAWAY
/// (RUSTSEC-2024-0003).
const MAX_LOCAL_RESETS: usize = 1024;
/// Descriptors kept back from the connection cap for the database, logs and the listener.
const RESERVED_DESCRIPTORS: u64 = 64;
/// How long a closing connection may take to finish its requests before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Back-off after `accept` fails for want of descriptors or memory: doubling up to the maximum.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What one listener allows; every field has a `tessera serve` flag (service/README.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; past it the server stops accepting until one closes. Lowered
    /// at start-up to what the descriptor limit allows.
    pub max_connections: usize,
    /// Concurrent streams per HTTP/2 connection (`SETTINGS_MAX_CONCURRENT_STREAMS`).
    pub max_streams: u32,
    /// A connection that has not started a request this long after it was accepted is closed
    /// (a silent socket, or half an HTTP/2 preface).
    pub handshake_timeout: Duration,
    /// A connection with no request in flight for this long is closed (GOAWAY).
    pub idle_timeout: Duration,
    /// A request, from its headers to its answer (its body included), takes at most this long.
    pub request_timeout: Duration,
    /// HTTP/2 PING interval; a peer that does not answer within the same time is dropped.
    pub keepalive: Duration,
}

impl Default for Limits {
    /// 256 connections of 100 streams each; 10 s to start a request and to finish one; 120 s
    /// idle; a keepalive ping every 30 s.
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_streams: 100,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(30),
        }
    }
}

impl Limits {
    /// Checks that no limit is zero.
    ///
    /// # Errors
    /// The name of the first limit that is zero.
    pub fn validate(&self) -> Result<(), &'static str> {
        let zero = Duration::ZERO;
        match () {
            () if self.max_connections == 0 => Err("max connections must be at least 1"),
            () if self.max_streams == 0 => Err("max streams must be at least 1"),
            () if self.handshake_timeout == zero => Err("handshake timeout must be positive"),
            () if self.idle_timeout == zero => Err("idle timeout must be positive"),
            () if self.request_timeout == zero => Err("request timeout must be positive"),
            () if self.keepalive == zero => Err("keepalive interval must be positive"),
            () => Ok(()),
        }
    }
}

/// What a listener serves: a cloneable service from HTTP requests to responses (a tonic
/// `Routes`, an axum `Router`).
pub trait HttpService<B>:
    Service<
        http::Request<hyper::body::Incoming>,
        Response = http::Response<B>,
        Future: Send + 'static,
        Error: Into<Box<dyn core::error::Error + Send + Sync>>,
    > + Clone
    + Send
    + 'static
{
}

impl<S, B> HttpService<B> for S where
    S: Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<B>,
            Future: Send + 'static,
            Error: Into<Box<dyn core::error::Error + Send + Sync>>,
        > + Clone
        + Send
        + 'static
{
}

/// A response body a listener can send.
pub trait ResponseBody:
    http_body::Body<Data: Send, Error: Into<Box<dyn core::error::Error + Send + Sync>>> + Send + 'static
{
}

impl<B> ResponseBody for B where
    B: http_body::Body<Data: Send, Error: Into<Box<dyn core::error::Error + Send + Sync>>>
        + Send
        + 'static
{
}

/// Which HTTP versions a listener speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocols {
    /// HTTP/2 only (gRPC).
    Http2,
    /// HTTP/1.1 and HTTP/2 with prior knowledge (the OAuth endpoints: browsers and ordinary
    /// client libraries speak HTTP/1.1).
    Http1And2,
}

/// The peer's address, in every request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Raises the soft descriptor limit to the hard one (so the connection cap, not `EMFILE`, is
/// what bounds connections) and returns the soft limit now in force, if it can be read.
pub fn raise_descriptor_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the descriptor limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection cap that fits in `descriptors`, keeping some back for everything else.
pub fn connections_within(max_connections: usize, descriptors: Option<u64>) -> usize {
    let Some(descriptors) = descriptors else {
        return max_connections;
    };
    let room = descriptors.saturating_sub(RESERVED_DESCRIPTORS).max(1);
    usize::try_from(room).map_or(max_connections, |room| max_connections.min(room))
}

/// Serves `service` on `listener` in `protocols` within `limits` until `shutdown` completes,
/// then lets open connections finish their requests (each within `limits.request_timeout`).
/// An HTTP/1.1 connection has the same handshake, idle and request deadlines as an HTTP/2 one,
/// serves one request at a time, and its request line and headers must fit in 16 KiB (64
/// fields at most; past it the connection is answered `431` and closed).
///
/// `on_timeout` makes the answer to a request that ran out of time (for gRPC, a
/// `DEADLINE_EXCEEDED` status). `name` is the listener's label in the connection and
/// in-flight request gauges ([`meter`](crate::meter): `grpc`, `http`, `metrics`).
///
/// # Errors
/// Only if the limits are invalid; accept failures are logged and retried.
pub async fn serve<S, B>(
    listener: TcpListener,
    name: &'static str,
    protocols: Protocols,
    limits: Limits,
    service: S,
    on_timeout: fn() -> http::Response<B>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    S: HttpService<B>,
    B: ResponseBody,
{
    limits
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let max_connections = connections_within(
        limits.max_connections,
        rlimit::getrlimit(rlimit::Resource::NOFILE)
            .ok()
            .map(|(soft, _)| soft),
    );
    if max_connections < limits.max_connections {
        tracing::warn!(
            max_connections,
            asked = limits.max_connections,
            "the descriptor limit lowers the connection cap"
        );
    }
    let permits = Arc::new(Semaphore::new(max_connections));
    let (closing, _) = watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams)
        .max_header_list_size(MAX_HEADER_LIST_BYTES)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .initial_stream_window_size(STREAM_WINDOW)
        .max_local_error_reset_streams(Some(MAX_LOCAL_RESETS))
        .keep_alive_interval(Some(limits.keepalive))
        .keep_alive_timeout(limits.keepalive);
    let builder = match protocols {
        Protocols::Http2 => builder.http2_only(),
        Protocols::Http1And2 => {
            builder
                .http1()
                .timer(TokioTimer::new())
                // hyper times the wait for every request head, the next one on a kept-alive
                // connection included: that wait is the idle limit. A first head that never
                // completes is cut at the handshake timeout (`Activity`).
                .header_read_timeout(limits.idle_timeout)
                .max_buf_size(HTTP1_BUFFER_BYTES)
                .max_headers(HTTP1_MAX_HEADERS)
                .keep_alive(true);
            builder
        }
    };
    let builder = Arc::new(builder);

    let mut shutdown = pin!(shutdown);
    let mut backoff = Backoff::default();
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff.reset();
                accepted
            }
            Err(e) => {
                if let Some(pause) = backoff.after(&e) {
                    tokio::time::sleep(pause).await;
                }
                continue;
            }
        };
        let connection = Connection {
            gauges: ListenerGauges(name),
            builder: Arc::clone(&builder),
            limits,
            closing: closing.subscribe(),
            on_timeout,
        };
        let service = service.clone();
        tokio::spawn(async move {
            connection.run(stream, peer, service).await;
            drop(permit);
        });
    }
    // Stop accepting, ask every connection to finish, and wait until all have.
    drop(listener);
    let _ = closing.send(true);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
    Ok(())
}

/// Accept failures: a descriptor or memory shortage waits, doubling up to a second, and warns
/// once per shortage; anything else (a peer that reset before `accept`) retries at once.
#[derive(Debug, Default)]
struct Backoff {
    next: Option<Duration>,
}

impl Backoff {
    fn reset(&mut self) {
        if self.next.take().is_some() {
            tracing::info!("accepting connections again");
        }
    }

    /// How long to pause after `error`, if at all.
    fn after(&mut self, error: &io::Error) -> Option<Duration> {
        let shortage = matches!(
            error.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        );
        if !shortage {
            tracing::debug!(%error, "accept failed");
            return None;
        }
        let pause = match self.next {
            None => {
                tracing::warn!(%error,
                    "cannot accept connections: out of file descriptors or memory; backing off");
                ACCEPT_BACKOFF_MIN
            }
            Some(pause) => pause,
        };
        self.next = Some(pause.saturating_mul(2).min(ACCEPT_BACKOFF_MAX));
        Some(pause)
    }
}

/// One accepted connection and what it needs to serve itself.
struct Connection<B> {
    gauges: ListenerGauges,
    builder: Arc<auto::Builder<TokioExecutor>>,
    limits: Limits,
    closing: watch::Receiver<bool>,
    on_timeout: fn() -> http::Response<B>,
}

impl<B: ResponseBody> Connection<B> {
    async fn run<S>(mut self, stream: TcpStream, peer: SocketAddr, service: S)
    where
        S: HttpService<B>,
    {
        // Without TCP_NODELAY a small response can wait ~40 ms on the peer's delayed ACK.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let _open = self.gauges.connection();
        let activity = Arc::new(Activity::new(self.gauges));
        let tracked = Tracked {
            inner: service,
            activity: Arc::clone(&activity),
            peer: PeerAddr(peer),
            request_timeout: self.limits.request_timeout,
            on_timeout: self.on_timeout,
        };
        let conn = self
            .builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(tracked));
        let mut conn = pin!(conn);
        let why = tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = activity.expired(&self.limits) => "idle",
            _ = self.closing.wait_for(|closing| *closing) => "server shutting down",
        };
        tracing::debug!(%peer, why, "closing connection");
        conn.as_mut().graceful_shutdown();
        let grace = if why == "idle" {
            CLOSE_GRACE
        } else {
            self.limits.request_timeout.saturating_add(CLOSE_GRACE)
        };
        if tokio::time::timeout(grace, conn).await.is_err() {
            tracing::debug!(%peer, "connection did not close in time: dropped");
        }
    }
}

/// When a connection last did something, and whether it is doing something now.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    /// Milliseconds after `opened` of the last request start or end.
    last: AtomicU64,
    in_flight: AtomicUsize,
    started_a_request: AtomicBool,
    gauges: ListenerGauges,
}

impl Activity {
    fn new(gauges: ListenerGauges) -> Self {
        Self {
            gauges,
            opened: Instant::now(),
            last: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            started_a_request: AtomicBool::new(false),
        }
    }

    fn touch(&self) {
        let elapsed = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(elapsed, Ordering::Relaxed);
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.started_a_request.store(true, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        InFlight {
            activity: Arc::clone(self),
            _gauge: self.gauges.request(),
        }
    }

    /// Completes when the connection has been quiet too long: before its first request,
    /// `handshake_timeout`; after it, `idle_timeout` with nothing in flight.
    async fn expired(&self, limits: &Limits) {
        loop {
            let quiet = if self.started_a_request.load(Ordering::Relaxed) {
                limits.idle_timeout
            } else {
                limits.handshake_timeout
            };
            let last = self
                .opened
                .checked_add(Duration::from_millis(self.last.load(Ordering::Relaxed)))
                .unwrap_or(self.opened);
            let deadline = last.checked_add(quiet).unwrap_or(last);
            if self.in_flight.load(Ordering::Relaxed) == 0 && Instant::now() >= deadline {
                return;
            }
            // A request in flight ends within the request timeout; look again then.
            let recheck = if Instant::now() >= deadline {
                Instant::now().checked_add(quiet).unwrap_or(deadline)
            } else {
                deadline
            };
            tokio::time::sleep_until(recheck).await;
        }
    }
}

/// A request in flight; its end is activity too.
struct InFlight {
    activity: Arc<Activity>,
    /// The listener's in-flight gauge, lowered on drop.
    _gauge: GaugeGuard,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.activity.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.activity.touch();
    }
}

/// The per-connection service: records activity, adds [`PeerAddr`], and bounds each request's
/// time.
struct Tracked<S, B> {
    inner: S,
    activity: Arc<Activity>,
    peer: PeerAddr,
    request_timeout: Duration,
    on_timeout: fn() -> http::Response<B>,
}

// Not derived: that would ask for `B: Clone`, and a response body need not be.
impl<S: Clone, B> Clone for Tracked<S, B> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            activity: Arc::clone(&self.activity),
            peer: self.peer,
            request_timeout: self.request_timeout,
            on_timeout: self.on_timeout,
        }
    }
}

impl<S, B> Service<http::Request<hyper::body::Incoming>> for Tracked<S, B>
where
    S: Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = core::pin::Pin<
        Box<dyn Future<Output = Result<http::Response<B>, S::Error>> + Send + 'static>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<hyper::body::Incoming>) -> Self::Future {
        let in_flight = self.activity.begin();
        request.extensions_mut().insert(self.peer);
        let answer = self.inner.call(request);
        let timeout = self.request_timeout;
        let on_timeout = self.on_timeout;
        let peer = self.peer.0;
        Box::pin(async move {
            let answer = tokio::time::timeout(timeout, answer).await;
            drop(in_flight);
            answer.unwrap_or_else(|_| {
                tracing::debug!(%peer, "request timed out");
                Ok(on_timeout())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_descriptors_for_the_rest() {
        assert_eq!(connections_within(256, None), 256);
        assert_eq!(connections_within(256, Some(1 << 20)), 256);
        assert_eq!(connections_within(256, Some(256)), 192);
        assert_eq!(connections_within(256, Some(10)), 1);
    }

    #[test]
    fn accept_backs_off_only_for_shortages_and_doubles_to_a_second() {
        let mut backoff = Backoff::default();
        let aborted = io::Error::from_raw_os_error(libc::ECONNABORTED);
        assert_eq!(backoff.after(&aborted), None);
        let emfile = io::Error::from_raw_os_error(libc::EMFILE);
        let pauses: Vec<_> = (0..9).filter_map(|_| backoff.after(&emfile)).collect();
        assert_eq!(pauses.first(), Some(&ACCEPT_BACKOFF_MIN));
        assert!(pauses.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(pauses.last(), Some(&ACCEPT_BACKOFF_MAX));
        backoff.reset();
        let enfile = io::Error::from_raw_os_error(libc::ENFILE);
        assert_eq!(backoff.after(&enfile), Some(ACCEPT_BACKOFF_MIN));
    }

    #[test]
    fn zero_limits_are_refused() {
        assert_eq!(Limits::default().validate(), Ok(()));
        let zeroed: [fn(&mut Limits); 6] = [
            |l| l.max_connections = 0,
            |l| l.max_streams = 0,
            |l| l.handshake_timeout = Duration::ZERO,
            |l| l.idle_timeout = Duration::ZERO,
            |l| l.request_timeout = Duration::ZERO,
            |l| l.keepalive = Duration::ZERO,
        ];
        for zero in zeroed {
            let mut limits = Limits::default();
            zero(&mut limits);
            assert!(limits.validate().is_err(), "{limits:?}");
        }
    }
}
