//! The memory a stranger can hold with streams, measured as the review measured it: header-only
//! streams on one connection, streams holding unfinished messages, and oversized messages to
//! the health service. Alone in its binary, so the RSS is this test's. Run with `--nocapture`
//! to see the figures.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use core::time::Duration;

use tessera_service::Config;
use tessera_service::listener::Limits;
use tessera_testkit::h2raw::*;
use tessera_testkit::server::*;
use tokio::time::Instant;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024.0
}

/// Opens `streams` calls to `path` on a new raw connection, each sending `data` and never
/// finishing, and keeps reading so the server's answers do not back up.
async fn hold(
    server: &TestServer,
    path: &str,
    streams: u32,
    data: &[u8],
) -> tokio::task::JoinHandle<usize> {
    let mut conn = RawH2::connect(server.addr).await;
    conn.server_settings().await;
    let block = grpc_headers(&server.addr.to_string(), path);
    let mut bytes = Vec::new();
    for i in 0..streams {
        let stream = 1 + 2 * i;
        bytes.extend(frame(HEADERS, END_HEADERS, stream, &block));
        for chunk in data.chunks(16 * 1024) {
            bytes.extend(frame(DATA, 0, stream, chunk));
        }
    }
    let (mut reader, mut writer) = conn.split();
    tokio::spawn(async move {
        let _ = writer.send(&bytes).await;
    });
    tokio::spawn(async move {
        let (mut answers, mut refused) = (0, 0);
        while answers + refused < streams as usize {
            let Some(frame) = reader.next().await else {
                break;
            };
            answers += usize::from(frame.kind == HEADERS && frame.flags & END_STREAM != 0);
            refused +=
                usize::from(frame.kind == RST_STREAM && frame.error_code() == REFUSED_STREAM);
        }
        answers
    })
}

/// Like [`hold`], through the h2 client, which keeps to the server's flow-control windows as a
/// patient attacker would; returns how many of the calls were answered.
async fn hold_within_windows(
    server: &TestServer,
    path: &str,
    streams: u32,
    data: Vec<u8>,
) -> tokio::task::JoinHandle<usize> {
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let uri = format!("http://{}{path}", server.addr);
    tokio::spawn(async move {
        let mut client = client;
        let mut calls = Vec::new();
        for _ in 0..streams {
            client = client.ready().await.unwrap();
            let request = http::Request::builder()
                .method("POST")
                .uri(&uri)
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .body(())
                .unwrap();
            let (response, mut body) = client.send_request(request, false).unwrap();
            body.send_data(data.clone().into(), false).unwrap();
            calls.push((response, body));
        }
        let mut answered = 0;
        for (response, body) in calls {
            answered += usize::from(response.await.is_ok());
            drop(body);
        }
        answered
    })
}

fn message(announced: u32, sent: usize) -> Vec<u8> {
    let mut data = grpc_prefix(announced).to_vec();
    data.extend(core::iter::repeat_n(b'a', sent));
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_cannot_hold_more_than_their_bound() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.limits = Limits {
        request_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let server = TestServer::start_with(config).await;
    server.assert_serving().await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let baseline = rss_mib();

    // 1. One connection, 20,000 header-only Exchange streams (review: +220 MiB, kept).
    let header_only = hold(&server, "/tessera.v1.TokenService/Exchange", 20_000, &[]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let one_connection = rss_mib() - baseline;
    assert!(!active(&mut api, &app, "not-a-token").await);

    // 2. 20 connections × 100 streams, each holding 15 KB of an unfinished message (the
    // review's 60 KB is over today's cap). Bound: about 6 MiB per connection of 100 streams.
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(
            hold_within_windows(
                &server,
                "/tessera.v1.TokenService/Introspect",
                100,
                message(16_000, 15_000),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let unfinished = rss_mib() - baseline;
    assert!(!active(&mut api, &app, "not-a-token").await);

    // 3. 40 announced 4 MB messages to the health service (review: +165 MiB): refused at once.
    let mut health = Vec::new();
    for _ in 0..40 {
        health.push(
            hold(
                &server,
                "/grpc.health.v1.Health/Check",
                1,
                &message(4_000_000, 60_000),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let oversized = rss_mib() - baseline;

    // After the request timeout every held stream has been answered and memory comes back.
    let started = Instant::now();
    let mut answered = 0;
    for task in held.into_iter().chain(health) {
        answered += tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0);
    }
    let after = rss_mib() - baseline;
    header_only.abort();
    eprintln!(
        "RSS growth over {baseline:.0} MiB: 20,000 header-only streams on 1 connection \
         {one_connection:+.1} MiB; 20 × 100 unfinished 15 KB messages {unfinished:+.1} MiB; \
         40 announced 4 MB health messages {oversized:+.1} MiB; after the timeout {after:+.1} MiB \
         ({answered} streams answered within {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(answered, 20 * 100 + 40, "every held stream was answered");
    assert!(
        one_connection < 16.0,
        "{one_connection} MiB for one connection"
    );
    assert!(
        unfinished < 20.0 * 8.0,
        "{unfinished} MiB for 2,000 streams"
    );
    assert!(oversized < unfinished + 16.0, "{oversized} MiB");
    server.assert_serving().await;
}
