//! The authorization endpoint (RFC 6749 §4.1.1, §4.1.2.1; RFC 7636 §4.3; RFC 9207) and the
//! login hand-off (GetLoginRequest, AcceptLogin, RejectLogin) against the real server, with a
//! real HTTP client that does not follow redirects, as a browser's first hop.
#![allow(
    clippy::unwrap_used,
    reason = "the helpers below are part of the tests: a failure is a panic"
)]

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use tessera_proto::v1::{
    AcceptLoginRequest, GetLoginRequestRequest, RegisterRequest, RejectLoginRequest,
};
use tessera_testkit::http::*;
use tessera_testkit::server::*;
use tonic::Code;

const LOGIN_URL: &str = "https://login.example/signin?tenant=demo";
const STATE: &str = "xyz 123-state";

struct Fixture {
    server: TestServer,
    http: Http,
    _dir: tempfile::TempDir,
}

async fn fixture(login_url: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = tessera_service::Config::new(dir.path());
    config.login_url = login_url.map(str::to_owned);
    let server = TestServer::start_with(config).await;
    let http = Http::new(&server);
    Fixture {
        server,
        http,
        _dir: dir,
    }
}

/// The query of an authorization request for `client_id`, with `changes` applied (an empty
/// value removes the parameter).
fn query(client_id: &str, changes: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "read"),
        ("state", STATE),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for &(name, value) in changes {
        params.retain(|(n, _)| *n != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// GETs the authorization endpoint: its status and `Location`.
async fn authorize(http: &Http, query: &str) -> (StatusCode, Option<String>, String) {
    let response = http
        .client
        .get(format!("{}/authorize?{query}", http.base))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned());
    (status, location, response.text().await.unwrap())
}

/// The parameters of `url`'s query.
fn params_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    params_of(url)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Asserts a redirect back to the client with `error`, the request's `state` and the issuer.
fn assert_error_redirect(f: &Fixture, answer: &(StatusCode, Option<String>, String), error: &str) {
    assert_eq!(answer.0, StatusCode::SEE_OTHER, "{}", answer.2);
    let to = answer.1.as_deref().unwrap();
    assert!(to.starts_with(&format!("{REDIRECT_URI}?")), "{to}");
    assert_eq!(param(to, "error").as_deref(), Some(error), "{to}");
    assert!(param(to, "error_description").is_some(), "{to}");
    assert_eq!(param(to, "state").as_deref(), Some(STATE), "{to}");
    assert_eq!(param(to, "iss"), Some(f.server.issuer()), "{to}");
    assert!(param(to, "code").is_none());
}

/// Asserts the HTML error page and no redirect.
fn assert_page(answer: &(StatusCode, Option<String>, String)) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST);
    assert!(answer.1.is_none(), "redirected: {:?}", answer.1);
    assert!(answer.2.contains("<html"), "{}", answer.2);
}

async fn challenge_of(f: &Fixture, query: &str) -> String {
    let (status, location, body) = authorize(&f.http, query).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = location.unwrap();
    assert!(
        location.starts_with(&format!("{LOGIN_URL}&login_challenge=tsr_lc_")),
        "{location}"
    );
    param(&location, "login_challenge").unwrap()
}

#[tokio::test]
async fn sign_in_consent_and_code_exchange_over_the_hand_off() {
    let f = fixture(Some(LOGIN_URL)).await;
    let app = f.server.register("Photo Printer", "read write").await;
    let photos = f.server.register("photos", "").await;
    let mut api = f.server.client().await;

    let q = query(&app.client_id, &[("resource", &photos.client_id)]);
    let challenge = challenge_of(&f, &q).await;
    let pending = api
        .get_login_request(f.server.operator(GetLoginRequestRequest {
            login_challenge: challenge.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pending.client_id, app.client_id);
    assert_eq!(pending.client_name, "Photo Printer");
    assert_eq!(pending.redirect_uri, REDIRECT_URI);
    assert_eq!(pending.scope, "read");
    assert_eq!(pending.audience, vec![photos.client_id.clone()]);
    let now = i64::try_from(f.server_now()).unwrap();
    assert!(pending.expires_at > now && pending.expires_at <= now + 600);

    let accepted = api
        .accept_login(f.server.operator(AcceptLoginRequest {
            login_challenge: challenge.clone(),
            subject: "alice".to_owned(),
            ..AcceptLoginRequest::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let to = accepted.redirect_to;
    assert!(
        to.starts_with(&format!("{REDIRECT_URI}?code=tsr_ac_")),
        "{to}"
    );
    assert_eq!(param(&to, "state").as_deref(), Some(STATE));
    assert_eq!(param(&to, "iss"), Some(f.server.issuer()));
    let code = param(&to, "code").unwrap();
    let tokens = f
        .http
        .form("/token", Auth::Basic(&app), &code_fields(&code))
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let access = tokens.body["access_token"].as_str().unwrap();
    let seen = introspect(&mut api, &photos, access).await;
    assert!(seen.active);
    assert_eq!(seen.sub, "alice");
    assert_eq!(seen.scope, "read");
    assert_eq!(seen.aud, vec![photos.client_id.clone()]);

    // POST works as GET does (RFC 6749 §3.1); the login app may narrow the scope, never widen.
    let response = f
        .http
        .client
        .post(format!("{}/authorize", f.http.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(&app.client_id, &[("scope", "read write")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let challenge = param(&location, "login_challenge").unwrap();
    let accept = |scope: &str| {
        f.server.operator(AcceptLoginRequest {
            login_challenge: challenge.clone(),
            subject: "alice".to_owned(),
            scope: scope.to_owned(),
            audience: vec![],
        })
    };
    let narrowed = api
        .accept_login(accept("write"))
        .await
        .unwrap()
        .into_inner();
    let code = param(&narrowed.redirect_to, "code").unwrap();
    let tokens = f
        .http
        .form("/token", Auth::Basic(&app), &code_fields(&code))
        .await;
    assert_eq!(tokens.body["scope"], "write");
    assert_refused(
        api.accept_login(accept("read admin")).await,
        Code::InvalidArgument,
        "invalid_scope",
    );
    f.server.stop().await;
}

impl Fixture {
    fn server_now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }
}

#[tokio::test]
async fn rejecting_redirects_access_denied_with_state_and_iss() {
    let f = fixture(Some(LOGIN_URL)).await;
    let app = f.server.register("app", "read").await;
    let mut api = f.server.client().await;
    let challenge = challenge_of(&f, &query(&app.client_id, &[])).await;
    let reject = |error: &str, description: &str| {
        f.server.operator(RejectLoginRequest {
            login_challenge: challenge.clone(),
            error: error.to_owned(),
            error_description: description.to_owned(),
        })
    };
    let to = api
        .reject_login(reject("", "The user said no"))
        .await
        .unwrap()
        .into_inner()
        .redirect_to;
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        param(&to, "error_description").as_deref(),
        Some("The user said no")
    );
    assert_eq!(param(&to, "state").as_deref(), Some(STATE));
    assert_eq!(param(&to, "iss"), Some(f.server.issuer()));
    let to = api
        .reject_login(reject("temporarily_unavailable", ""))
        .await
        .unwrap()
        .into_inner()
        .redirect_to;
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("temporarily_unavailable")
    );
    assert!(param(&to, "error_description").is_none());
    assert_refused(
        api.reject_login(reject("made_up", "")).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    assert_refused(
        api.reject_login(reject("", "quote \" not allowed")).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    f.server.stop().await;
}

#[tokio::test]
async fn the_hand_off_rpcs_need_the_operator_token_and_a_valid_challenge() {
    let f = fixture(Some(LOGIN_URL)).await;
    let app = f.server.register("app", "read").await;
    let mut api = f.server.client().await;
    let challenge = challenge_of(&f, &query(&app.client_id, &[])).await;

    let status = api
        .get_login_request(GetLoginRequestRequest {
            login_challenge: challenge.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = api
        .accept_login(with_auth(
            AcceptLoginRequest {
                login_challenge: challenge.clone(),
                subject: "alice".to_owned(),
                ..AcceptLoginRequest::default()
            },
            &format!("Bearer {}", app.client_secret),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let mut forged = challenge.clone().into_bytes();
    forged[30] ^= 1;
    for bad in [
        String::from_utf8(forged).unwrap(),
        String::new(),
        "tsr_ac_x".to_owned(),
    ] {
        assert_refused(
            api.get_login_request(f.server.operator(GetLoginRequestRequest {
                login_challenge: bad,
            }))
            .await,
            Code::InvalidArgument,
            "invalid_request",
        );
    }
    // A bad subject is refused and issues nothing.
    assert_refused(
        api.accept_login(f.server.operator(AcceptLoginRequest {
            login_challenge: challenge,
            subject: String::new(),
            ..AcceptLoginRequest::default()
        }))
        .await,
        Code::InvalidArgument,
        "invalid_request",
    );
    f.server.stop().await;
}

#[tokio::test]
async fn every_authorization_error_redirects_with_state_and_iss_or_shows_a_page() {
    let f = fixture(Some(LOGIN_URL)).await;
    let app = f.server.register("app", "read").await;
    let id = app.client_id.as_str();

    // Nothing proves the redirect URI is the client's: an HTML page, no redirect.
    assert_page(&authorize(&f.http, &query("00112233445566778899aabbccddeeff", &[])).await);
    assert_page(&authorize(&f.http, &query("not-an-id", &[])).await);
    assert_page(&authorize(&f.http, &query("", &[("client_id", "")])).await);
    assert_page(
        &authorize(
            &f.http,
            &query(id, &[("redirect_uri", "https://evil.example/cb")]),
        )
        .await,
    );
    assert_page(&authorize(&f.http, &query(id, &[("redirect_uri", "")])).await);
    let twice = format!(
        "{}&redirect_uri=https%3A%2F%2Fevil.example%2F",
        query(id, &[])
    );
    assert_page(&authorize(&f.http, &twice).await);

    for (changes, error) in [
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("code_challenge", "short")], "invalid_request"),
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("scope", "read admin")], "invalid_scope"),
        (
            vec![("resource", "00112233445566778899aabbccddeeff")],
            "invalid_request",
        ),
    ] {
        let answer = authorize(&f.http, &query(id, &changes)).await;
        assert_error_redirect(&f, &answer, error);
    }
    // No login app configured: the request is fine, the server cannot continue.
    let g = fixture(None).await;
    let other = g.server.register("app", "read").await;
    let answer = authorize(&g.http, &query(&other.client_id, &[])).await;
    assert_error_redirect(&g, &answer, "server_error");
    g.server.stop().await;
    f.server.stop().await;
}

#[tokio::test]
async fn a_loopback_client_may_use_any_port_and_keeps_its_redirect_query() {
    let f = fixture(Some(LOGIN_URL)).await;
    let cli = f
        .server
        .try_register(RegisterRequest {
            client_name: "cli".to_owned(),
            redirect_uris: vec![
                "http://127.0.0.1/callback".to_owned(),
                "https://app.example/cb?tenant=7".to_owned(),
            ],
            scope: "read".to_owned(),
            public_client: true,
        })
        .await
        .unwrap();
    let mut api = f.server.client().await;
    for redirect in [
        "http://127.0.0.1:49152/callback",
        "https://app.example/cb?tenant=7",
    ] {
        let q = query(&cli.client_id, &[("redirect_uri", redirect)]);
        let challenge = challenge_of(&f, &q).await;
        let to = api
            .accept_login(f.server.operator(AcceptLoginRequest {
                login_challenge: challenge,
                subject: "alice".to_owned(),
                ..AcceptLoginRequest::default()
            }))
            .await
            .unwrap()
            .into_inner()
            .redirect_to;
        let sep = if redirect.contains('?') { '&' } else { '?' };
        assert!(
            to.starts_with(&format!("{redirect}{sep}code=tsr_ac_")),
            "{to}"
        );
    }
    f.server.stop().await;
}
