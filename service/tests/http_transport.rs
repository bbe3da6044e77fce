//! The HTTP listener's bounds against a stranger speaking raw HTTP/1.1 over TCP: a silent socket,
//! a body that never finishes, an oversized head, and an idle keep-alive connection. The same
//! `listener::serve` bounds the gRPC listener (tests/listener.rs).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use core::time::Duration;

use tessera_service::Config;
use tessera_service::listener::Limits;
use tessera_testkit::server::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

async fn start(dir: &std::path::Path) -> TestServer {
    let mut config = Config::new(dir);
    config.limits = Limits {
        handshake_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    TestServer::start_with(config).await
}

/// Reads until the server closes the connection (or `within` passes): what it sent, and when
/// it closed (`None`: still open).
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, Option<Instant>) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(end, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                return (String::from_utf8_lossy(&seen).into(), Some(Instant::now()));
            }
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&seen).into(), None),
        }
    }
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_handshake_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.http_addr).await.unwrap();
    let mut half = TcpStream::connect(server.http_addr).await.unwrap();
    half.write_all(b"POST /token HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    for stream in [&mut silent, &mut half] {
        let (_, closed) = read_until_closed(stream, Duration::from_secs(5)).await;
        let closed = closed.expect("the server kept a silent connection open");
        assert!(
            closed - started < Duration::from_secs(4),
            "{:?}",
            closed - started
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_never_finishes_is_answered_408_at_the_request_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut stream = TcpStream::connect(server.http_addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 1000\r\n\r\ngrant_type=client_credentials",
        )
        .await
        .unwrap();
    let (seen, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(seen.starts_with("HTTP/1.1 408"), "{seen}");
    assert!(seen.contains("invalid_request"), "{seen}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_head_is_refused_and_a_kept_alive_connection_closes_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut stream = TcpStream::connect(server.http_addr).await.unwrap();
    let huge = format!(
        "GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Fill: {}\r\n\r\n",
        "a".repeat(32 * 1024)
    );
    // The server may close before reading it all.
    let _ = stream.write_all(huge.as_bytes()).await;
    let (seen, closed) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(seen.starts_with("HTTP/1.1 431"), "{seen}");
    assert!(closed.is_some());

    // A keep-alive connection that served a request is closed after the idle timeout.
    let mut stream = TcpStream::connect(server.http_addr).await.unwrap();
    stream
        .write_all(b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = timeout(Duration::from_secs(2), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(6)).await;
    let idle = closed.expect("an idle connection stayed open") - answered;
    assert!(
        idle >= Duration::from_millis(1500) && idle < Duration::from_secs(5),
        "{idle:?}"
    );
    server.stop().await;
}
