//! The scenarios: what one request (or one flow) is, and the workers that send them.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use tessera_core::{CHALLENGE_TEXT_LEN, CodeChallenge, CodeVerifier};
use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{ExchangeRequest, IntrospectRequest, IssueCodeRequest, RegisterRequest};
use tonic::Request;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::Budget;
use crate::report::Report;
use crate::target::Target;

/// What the load generator sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scenario {
    /// `grpc.health.v1.Health/Check`: the transport floor.
    Empty,
    /// `Introspect` of a valid access token by its client.
    Introspect,
    /// One issuance flow: `IssueCode` then `Exchange` (two RPCs and a durable single-use mark).
    Issue,
    /// `Register` of a new client (a durable write).
    Register,
    /// 90% introspect, 9% issue, 1% register.
    Mixed,
}

const REDIRECT_URI: &str = "http://127.0.0.1/callback";
/// A fixed PKCE verifier: every code gets the same challenge, which the server cannot tell.
const VERIFIER: &str = "tessera-load-pkce-verifier-0123456789abcdefghijklmnop";

/// Everything a worker needs to send any scenario's requests.
#[derive(Clone, Debug)]
struct Fixture {
    operator: MetadataValue<Ascii>,
    client_id: String,
    basic: MetadataValue<Ascii>,
    challenge: String,
    access_token: String,
}

fn with_auth<T>(message: T, auth: &MetadataValue<Ascii>) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", auth.clone());
    request
}

/// A confidential client with the one redirect URI the load generator uses.
fn register_request(scope: &str) -> RegisterRequest {
    RegisterRequest {
        client_name: "tessera-load".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        scope: scope.into(),
        public_client: false,
    }
}

impl Fixture {
    /// Registers one client and issues it an access token.
    async fn new(target: &Target, channel: Channel) -> anyhow::Result<Self> {
        let mut api = TokenServiceClient::new(channel);
        let registered = api
            .register(with_auth(register_request("read write"), &target.operator))
            .await?
            .into_inner();
        let basic = tessera_service::credentials::basic_header(
            &registered.client_id,
            &registered.client_secret,
        );
        let verifier = CodeVerifier::parse(VERIFIER)?;
        let challenge = CodeChallenge::s256(&verifier)
            .encode(&mut [0u8; CHALLENGE_TEXT_LEN])
            .to_owned();
        let mut fixture = Self {
            operator: target.operator.clone(),
            client_id: registered.client_id,
            basic: basic.parse()?,
            challenge,
            access_token: String::new(),
        };
        fixture.access_token = fixture.issue(&mut api).await?;
        Ok(fixture)
    }

    /// IssueCode then Exchange; returns the access token.
    async fn issue(&self, api: &mut TokenServiceClient<Channel>) -> anyhow::Result<String> {
        let code = api
            .issue_code(with_auth(
                IssueCodeRequest {
                    client_id: self.client_id.clone(),
                    redirect_uri: REDIRECT_URI.into(),
                    scope: "read".into(),
                    subject: "load-user".into(),
                    code_challenge: self.challenge.clone(),
                    code_challenge_method: "S256".into(),
                    audience: Vec::new(),
                },
                &self.operator,
            ))
            .await?
            .into_inner()
            .code;
        let tokens = api
            .exchange(with_auth(
                ExchangeRequest {
                    grant_type: "authorization_code".into(),
                    code,
                    redirect_uri: REDIRECT_URI.into(),
                    code_verifier: VERIFIER.into(),
                    ..Default::default()
                },
                &self.basic,
            ))
            .await?
            .into_inner();
        anyhow::ensure!(
            !tokens.access_token.is_empty(),
            "exchange returned no access token"
        );
        Ok(tokens.access_token)
    }

    async fn introspect(&self, api: &mut TokenServiceClient<Channel>) -> anyhow::Result<()> {
        let answer = api
            .introspect(with_auth(
                IntrospectRequest {
                    token: self.access_token.clone(),
                    token_type_hint: "access_token".into(),
                },
                &self.basic,
            ))
            .await?
            .into_inner();
        anyhow::ensure!(answer.active, "a valid access token introspected inactive");
        Ok(())
    }

    async fn register(&self, api: &mut TokenServiceClient<Channel>) -> anyhow::Result<()> {
        let registered = api
            .register(with_auth(register_request("read"), &self.operator))
            .await?
            .into_inner();
        anyhow::ensure!(
            !registered.client_secret.is_empty(),
            "register returned no secret"
        );
        Ok(())
    }
}

/// One worker's connection to the server.
struct Worker {
    api: TokenServiceClient<Channel>,
    health: HealthClient<Channel>,
    fixture: Fixture,
}

impl Worker {
    /// Sends request number `i` of `scenario`.
    async fn send(&mut self, scenario: Scenario, i: u64) -> anyhow::Result<()> {
        let scenario = match (scenario, i % 100) {
            (Scenario::Mixed, 0..90) => Scenario::Introspect,
            (Scenario::Mixed, 90..99) => Scenario::Issue,
            (Scenario::Mixed, _) => Scenario::Register,
            (other, _) => other,
        };
        match scenario {
            Scenario::Empty => {
                self.health
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await?;
                Ok(())
            }
            Scenario::Introspect => self.fixture.introspect(&mut self.api).await,
            Scenario::Issue => self.fixture.issue(&mut self.api).await.map(drop),
            Scenario::Register | Scenario::Mixed => self.fixture.register(&mut self.api).await,
        }
    }
}

/// Runs `scenario` with `concurrency` workers over `channels` until the budget is spent.
pub(crate) async fn run(
    scenario: Scenario,
    target: &Target,
    channels: &[Channel],
    concurrency: usize,
    budget: Budget,
) -> anyhow::Result<Report> {
    let first = channels
        .first()
        .ok_or_else(|| anyhow::anyhow!("no connection"))?;
    let fixture = Fixture::new(target, first.clone()).await?;
    let progress = progress_bar(scenario, budget);
    let started = Arc::new(AtomicU64::new(0));
    let begin = Instant::now();
    let deadline = match budget {
        Budget::Time(d) => Some(begin + d),
        Budget::Requests(_) => None,
    };
    let limit = match budget {
        Budget::Requests(n) => n,
        Budget::Time(_) => u64::MAX,
    };

    let mut workers = Vec::with_capacity(concurrency);
    for (w, channel) in (0..concurrency).zip(channels.iter().cycle()) {
        let mut worker = Worker {
            api: TokenServiceClient::new(channel.clone()),
            health: HealthClient::new(channel.clone()),
            fixture: fixture.clone(),
        };
        let (started, progress) = (Arc::clone(&started), progress.clone());
        workers.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new_with_bounds(1_000, 60_000_000_000, 3)?;
            let (mut errors, mut first_error) = (0u64, None);
            loop {
                let i = started.fetch_add(1, Ordering::Relaxed);
                if i >= limit || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let sent = Instant::now();
                match worker.send(scenario, i).await {
                    Ok(()) => latency.saturating_record(
                        u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX),
                    ),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("worker {w}: {e:#}"));
                    }
                }
                if deadline.is_none() {
                    progress.inc(1);
                }
            }
            anyhow::Ok((latency, errors, first_error))
        }));
    }
    let ticker = deadline.map(|_| {
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                progress
                    .set_position(u64::try_from(begin.elapsed().as_millis()).unwrap_or(u64::MAX));
            }
        })
    });

    let mut latency = Histogram::<u64>::new_with_bounds(1_000, 60_000_000_000, 3)?;
    let (mut errors, mut first_error) = (0, None);
    for worker in workers {
        let (h, e, first) = worker.await??;
        latency.add(h)?;
        errors += e;
        first_error = first_error.or(first);
    }
    let elapsed = begin.elapsed();
    if let Some(t) = ticker {
        t.abort();
    }
    progress.finish_and_clear();
    Ok(Report::new(scenario, latency, errors, first_error, elapsed))
}

fn progress_bar(scenario: Scenario, budget: Budget) -> ProgressBar {
    let (len, unit) = match budget {
        Budget::Time(d) => (u64::try_from(d.as_millis()).unwrap_or(u64::MAX), "ms"),
        Budget::Requests(n) => (n, "requests"),
    };
    let bar = ProgressBar::new(len);
    let style = format!("{{prefix:>10}} [{{bar:40}}] {{pos}}/{{len}} {unit}");
    if let Ok(style) = ProgressStyle::with_template(&style) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(format!("{scenario:?}").to_lowercase());
    bar
}
