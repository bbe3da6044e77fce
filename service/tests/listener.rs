//! The listener's bounds against a stranger: streams per connection, a body that never
//! finishes, the message cap on every service, silent and half-open sockets, idle connections,
//! a flood of locally reset streams, and a low descriptor limit. Each attack runs against the
//! real server on 127.0.0.1 with a raw HTTP/2 peer where a gRPC client cannot express it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use core::time::Duration;
use std::process::{Child, Command, Stdio};

use tessera_service::Config;
use tessera_service::listener::Limits;
use tessera_testkit::h2raw::*;
use tessera_testkit::server::*;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

fn quick_limits() -> Limits {
    Limits {
        handshake_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(1),
        ..Limits::default()
    }
}

async fn start(dir: &std::path::Path, limits: Limits) -> TestServer {
    let mut config = Config::new(dir);
    config.limits = limits;
    TestServer::start_with(config).await
}

/// Reads frames until the connection closes or `within` passes.
async fn frames_until_quiet(conn: &mut RawH2, within: Duration) -> Vec<Frame> {
    let mut frames = Vec::new();
    let end = Instant::now() + within;
    while let Ok(Some(frame)) = tokio::time::timeout_at(end, conn.next()).await {
        frames.push(frame);
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_advertises_and_enforces_its_stream_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        idle_timeout: Duration::from_secs(60),
        ..quick_limits()
    };
    let server = start(dir.path(), limits).await;
    let mut conn = RawH2::connect(server.addr).await;
    let settings = conn.server_settings().await;
    assert!(
        settings.contains(&(MAX_CONCURRENT_STREAMS, 100)),
        "{settings:?}"
    );

    // 300 Exchange streams opened at once, none with a body: 100 are taken, 200 refused.
    let block = grpc_headers(
        &server.addr.to_string(),
        "/tessera.v1.TokenService/Exchange",
    );
    let mut bytes = Vec::new();
    for i in 0..300u32 {
        bytes.extend(frame(HEADERS, END_HEADERS, 1 + 2 * i, &block));
    }
    conn.send(&bytes).await.unwrap();
    let frames = frames_until_quiet(&mut conn, Duration::from_secs(4)).await;
    let refused = frames
        .iter()
        .filter(|f| f.kind == RST_STREAM && f.error_code() == REFUSED_STREAM)
        .count();
    // The 100 taken time out after the request timeout: each gets an answer that ends its stream.
    let answered = frames
        .iter()
        .filter(|f| f.kind == HEADERS && f.flags & END_STREAM != 0)
        .count();
    assert_eq!((refused, answered), (200, 100));
    assert!(!frames.iter().any(|f| f.kind == GOAWAY));
    server.assert_serving().await;
}

/// What a raw gRPC call got back.
struct Answer {
    status: tonic::Status,
    /// Bytes of response messages.
    body: usize,
}

/// Opens a gRPC call with the h2 client, sends `data` and, if `finish`, ends the request.
async fn raw_call(server: &TestServer, path: &str, data: Vec<u8>, finish: bool) -> Answer {
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}{path}", server.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(request, false).unwrap();
    send.send_data(data.into(), finish).unwrap();
    let response = response.await.unwrap();
    if let Some(status) = tonic::Status::from_header_map(response.headers()) {
        return Answer { status, body: 0 };
    }
    let mut rest = response.into_body();
    let mut body = 0;
    while let Some(chunk) = rest.data().await {
        body += chunk.map_or(0, |c| c.len());
    }
    let trailers = rest.trailers().await.unwrap().unwrap_or_default();
    Answer {
        status: tonic::Status::from_header_map(&trailers).expect("no grpc-status"),
        body,
    }
}

/// A message header announcing `announced` bytes, then `sent` bytes of it.
fn partial_message(announced: u32, sent: usize) -> Vec<u8> {
    let mut data = grpc_prefix(announced).to_vec();
    data.extend(core::iter::repeat_n(b'a', sent));
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_finishes_is_answered_at_the_request_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), quick_limits()).await;
    let started = Instant::now();
    let answer = timeout(
        Duration::from_secs(10),
        raw_call(
            &server,
            "/tessera.v1.TokenService/Introspect",
            partial_message(12_000, 6_000),
            false,
        ),
    )
    .await
    .expect("the server never answered an unfinished request");
    assert_eq!(answer.status.code(), tonic::Code::DeadlineExceeded);
    assert_eq!(answer.status.message(), tessera_service::server::TIMED_OUT);
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_refuses_a_message_over_the_cap_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    // A long request timeout: a refusal must come from the cap, not from the clock.
    let limits = Limits {
        request_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let server = start(dir.path(), limits).await;
    for path in [
        "/tessera.v1.TokenService/Introspect",
        "/grpc.health.v1.Health/Check",
    ] {
        // A 4 MB message announced, 1 KiB of it sent.
        let answer = timeout(
            Duration::from_secs(10),
            raw_call(&server, path, partial_message(4_000_000, 1024), false),
        )
        .await
        .unwrap_or_else(|_| panic!("{path}: no answer to an oversized message"));
        assert_eq!(
            answer.status.code(),
            tonic::Code::ResourceExhausted,
            "{path}: {}",
            answer.status.message()
        );
    }
    // Reflection is a stream: an oversized request message ends it unlooked-up, while one
    // under the cap is looked up (tonic's default cap, 4 MiB, would look up both).
    for path in [
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ] {
        for (name_len, answered) in [(100, true), (20_000, false)] {
            let request = tonic_reflection::pb::v1::ServerReflectionRequest {
                host: String::new(),
                message_request: Some(
                    tonic_reflection::pb::v1::server_reflection_request::MessageRequest::FileByFilename(
                        "x".repeat(name_len),
                    ),
                ),
            };
            let message = prost::Message::encode_to_vec(&request);
            let mut data = grpc_prefix(u32::try_from(message.len()).unwrap()).to_vec();
            data.extend(message);
            let answer = timeout(Duration::from_secs(10), raw_call(&server, path, data, true))
                .await
                .unwrap_or_else(|_| panic!("{path}: no answer"));
            // Looked up (a not-found answer, as a message or a status) only when read.
            let looked_up = answer.body > 0 || answer.status.code() == tonic::Code::NotFound;
            assert_eq!(looked_up, answered, "{path} {name_len}: {}", answer.status);
        }
    }
    server.assert_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_half_open_sockets_are_closed_after_the_handshake_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), quick_limits()).await;
    let mut sockets = Vec::new();
    for i in 0..200 {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        if i % 2 == 1 {
            use tokio::io::AsyncWriteExt;
            socket.write_all(&PREFACE[..12]).await.unwrap();
        }
        sockets.push(socket);
    }
    let deadline = Instant::now() + Duration::from_secs(8);
    for mut socket in sockets {
        let mut byte = [0u8; 64];
        loop {
            match tokio::time::timeout_at(deadline, socket.read(&mut byte)).await {
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(_)) => {} // the server's SETTINGS or GOAWAY
                Err(_) => panic!("a socket was still open 8 s after a 1 s handshake timeout"),
            }
        }
    }
    server.assert_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_gets_goaway_and_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), quick_limits()).await;
    let mut conn = RawH2::connect(server.addr).await;
    conn.server_settings().await;
    let block = grpc_headers(&server.addr.to_string(), "/grpc.health.v1.Health/Check");
    let mut bytes = frame(HEADERS, END_HEADERS, 1, &block);
    bytes.extend(frame(DATA, END_STREAM, 1, &grpc_prefix(0)));
    conn.send(&bytes).await.unwrap();
    let started = Instant::now();
    let frames = frames_until_quiet(&mut conn, Duration::from_secs(8)).await;
    assert!(
        frames
            .iter()
            .any(|f| f.kind == HEADERS && f.stream == 1 && f.flags & END_STREAM != 0),
        "the health check was answered"
    );
    assert!(frames.iter().any(|f| f.kind == GOAWAY), "{frames:?}");
    assert!(conn.next().await.is_none(), "the connection is closed");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2),
        "closed before the idle timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_locally_reset_streams_draws_goaway() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), quick_limits()).await;
    let mut conn = RawH2::connect(server.addr).await;
    conn.server_settings().await;
    // A request with only `:method` is malformed: the server resets each such stream. Frames
    // are read while the flood is written, so none is lost when the server hangs up.
    let (mut reader, mut writer) = conn.split();
    let flood = tokio::spawn(async move {
        for batch in 0..50u32 {
            let mut bytes = Vec::new();
            for i in 0..100u32 {
                let stream = 1 + 2 * (batch * 100 + i);
                bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, stream, &[0x83]));
            }
            if writer.send(&bytes).await.is_err() {
                break; // the server hung up
            }
        }
    });
    let frames = frames_until_quiet(&mut reader, Duration::from_secs(8)).await;
    flood.await.unwrap();
    let resets = frames.iter().filter(|f| f.kind == RST_STREAM).count();
    let goaway = frames.iter().find(|f| f.kind == GOAWAY).expect("no GOAWAY");
    assert_eq!(goaway.error_code(), ENHANCE_YOUR_CALM);
    assert!(resets <= 1100, "{resets} resets before GOAWAY");
    server.assert_serving().await;
}

/// A `tessera serve` process under `ulimit -n`, with a 1 s handshake timeout.
struct LimitedServer {
    child: Child,
    addr: core::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl LimitedServer {
    fn start(ulimit: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: core::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("{ulimit} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_tessera"))
            .args([
                "serve",
                "--http-listen",
                "off",
                "--handshake-timeout",
                "1",
                "--listen",
            ])
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self {
            child,
            addr,
            _dir: dir,
        }
    }

    async fn wait_serving(&self) {
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            if health_ok(self.addr, Duration::from_secs(2)).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tessera serve did not start");
    }

    fn proc(&self, file: &str) -> String {
        std::fs::read_to_string(format!("/proc/{}/{file}", self.child.id())).unwrap()
    }

    fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    /// User plus system CPU time, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = self.proc("stat");
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of /proc/PID/stat (proc(5)), 12 and 13 here.
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }
}

impl Drop for LimitedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn health_ok(addr: core::net::SocketAddr, within: Duration) -> bool {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let call = async {
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .ok()?;
        HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
            .ok()
    };
    matches!(timeout(within, call).await, Ok(Some(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_under_a_low_descriptor_limit_cannot_starve_a_normal_call() {
    let server = LimitedServer::start("ulimit -n 256");
    server.wait_serving().await;
    let ticks_before = server.cpu_ticks();
    let attack_started = Instant::now();
    // More silent sockets than the process has descriptors.
    let mut sockets = Vec::new();
    for _ in 0..400 {
        sockets.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let mut most = 0;
    for _ in 0..20 {
        most = most.max(server.descriptors());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(most <= 256, "{most} descriptors open");
    // A normal call gets through once the silent sockets ahead of it have timed out.
    let end = Instant::now() + Duration::from_secs(30);
    let mut served = false;
    while !served && Instant::now() < end {
        served = health_ok(server.addr, Duration::from_secs(5)).await;
    }
    assert!(served, "no normal call succeeded within 30 s");
    let elapsed = attack_started.elapsed().as_secs_f64();
    let ticks = server.cpu_ticks() - ticks_before;
    // A spinning accept loop burns ~100 ticks a second; an idle server a few.
    let per_second = ticks as f64 / elapsed;
    eprintln!(
        "low descriptor limit: at most {most} descriptors, {per_second:.1} CPU ticks/s over {elapsed:.1} s"
    );
    assert!(per_second < 30.0, "{per_second} CPU ticks per second");
    drop(sockets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_soft_descriptor_limit_is_raised_to_the_hard_one() {
    let server = LimitedServer::start("ulimit -S -n 256 && ulimit -H -n 4096");
    server.wait_serving().await;
    let limits = server.proc("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers, ["4096", "4096"], "{line}");
}
