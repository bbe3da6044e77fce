//! The Rust `oauth2` crate (5.x), unmodified, against the real server on 127.0.0.1:0: every
//! endpoint from the metadata document alone (RFC 8414), the login step done by the test (the
//! 303 to the login URL read, the challenge accepted or rejected over the operator RPCs).
//!
//! What this file checks (service/tests/interop/ checks the same list with authlib and
//! requests-oauthlib; each item is covered at least once across them):
//! - authorization_code with PKCE S256 and `AuthType::BasicAuth`, then refresh_token,
//!   introspection and revocation: `code_grant_with_basic_auth_then_refresh_introspect_revoke`
//! - `AuthType::RequestBody` (client_secret_post): `code_grant_with_the_secret_in_the_body`
//! - `none`, a public client: `a_public_client_sends_its_id_alone`
//! - client_credentials: `client_credentials_for_a_resource`
//! - a replayed code (400 invalid_grant, the first tokens inactive):
//!   `a_replayed_code_is_invalid_grant_and_revokes_its_tokens`
//! - refresh reuse revokes the family: `refresh_reuse_revokes_the_family`
//! - a wrong secret (401 + `WWW-Authenticate`): `a_wrong_secret_is_401_with_a_basic_challenge`
//! - every authorization endpoint error, `state` and `iss` checked on each redirect:
//!   `authorization_endpoint_errors`, `reject_login_is_access_denied`
//!
//! The crate refuses a revocation URL that is not `https` (RFC 7009 §2, checked first below);
//! the server has no TLS inside and runs behind a TLS-terminating proxy, so the test's HTTP
//! client stands in for that proxy: it sends `https://` requests on as `http://`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use core::future::Future;
use core::pin::Pin;
use std::sync::Mutex;

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AccessToken, AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret,
    ConfigurationError, CsrfToken, HttpClientError, HttpRequest, HttpResponse, IntrospectionUrl,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    RevocationUrl, Scope, StandardRevocableToken, TokenIntrospectionResponse, TokenResponse,
    TokenUrl,
};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use tessera_proto::v1::{AcceptLoginRequest, RejectLoginRequest};
use tessera_service::Config;
use tessera_testkit::server::{REDIRECT_URI, TestServer};

/// The login app's URL: nothing listens there, the test reads the redirect to it.
const LOGIN_URL: &str = "http://127.0.0.1:9/login";

/// A server with a login URL, and its metadata document.
struct Issuer {
    server: TestServer,
    metadata: Value,
    _dir: tempfile::TempDir,
}

impl Issuer {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path());
        config.login_url = Some(LOGIN_URL.to_owned());
        let server = TestServer::start_with(config).await;
        let metadata = reqwest::get(format!(
            "{}/.well-known/oauth-authorization-server",
            server.issuer()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        Self {
            server,
            metadata,
            _dir: dir,
        }
    }

    fn endpoint(&self, name: &str) -> String {
        self.metadata[name].as_str().unwrap().to_owned()
    }

    /// A client registered at the discovered registration endpoint (RFC 7591).
    async fn register(&self, name: &str, scope: &str, method: &str) -> Registered {
        let answer = reqwest::Client::new()
            .post(self.endpoint("registration_endpoint"))
            .bearer_auth(&self.server.operator)
            .json(&json!({
                "client_name": name,
                "redirect_uris": [REDIRECT_URI],
                "scope": scope,
                "token_endpoint_auth_method": method,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::CREATED);
        let body: Value = answer.json().await.unwrap();
        Registered {
            id: body["client_id"].as_str().unwrap().to_owned(),
            secret: body["client_secret"].as_str().map(str::to_owned),
        }
    }

    /// An `oauth2` client for `client`, every URL from the metadata document, the revocation
    /// URL as the TLS-terminating proxy would publish it (`https`).
    fn client(&self, client: &Registered, auth: AuthType) -> Oauth2Client {
        let mut oauth = BasicClient::new(ClientId::new(client.id.clone()))
            .set_auth_uri(AuthUrl::new(self.endpoint("authorization_endpoint")).unwrap())
            .set_token_uri(TokenUrl::new(self.endpoint("token_endpoint")).unwrap())
            .set_introspection_url(
                IntrospectionUrl::new(self.endpoint("introspection_endpoint")).unwrap(),
            )
            .set_revocation_url(
                RevocationUrl::new(
                    self.endpoint("revocation_endpoint")
                        .replacen("http://", "https://", 1),
                )
                .unwrap(),
            )
            .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).unwrap())
            .set_auth_type(auth);
        if let Some(secret) = &client.secret {
            oauth = oauth.set_client_secret(ClientSecret::new(secret.clone()));
        }
        oauth
    }

    /// Follows `url` as a browser would, up to the login app: its `login_challenge`.
    async fn login_challenge(&self, url: &oauth2::url::Url) -> String {
        let answer = browser().get(url.as_str()).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{url}");
        let location = answer.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(location.starts_with(&format!("{LOGIN_URL}?")), "{location}");
        let challenge = query(&location, "login_challenge").unwrap();
        assert!(challenge.starts_with("tsr_lc_"), "{challenge}");
        challenge
    }

    async fn accept(&self, challenge: String) -> String {
        self.server
            .client()
            .await
            .accept_login(self.server.operator(AcceptLoginRequest {
                login_challenge: challenge,
                subject: "alice".to_owned(),
                ..AcceptLoginRequest::default()
            }))
            .await
            .unwrap()
            .into_inner()
            .redirect_to
    }

    async fn reject(&self, challenge: String) -> String {
        self.server
            .client()
            .await
            .reject_login(self.server.operator(RejectLoginRequest {
                login_challenge: challenge,
                error: "access_denied".to_owned(),
                error_description: "the user said no".to_owned(),
            }))
            .await
            .unwrap()
            .into_inner()
            .redirect_to
    }

    /// Asserts that `redirect` goes to [`REDIRECT_URI`] with `state` and this issuer's `iss`
    /// (RFC 6749 §4.1.2, RFC 9207), and returns it.
    fn redirected<'a>(&self, redirect: &'a str, state: &CsrfToken) -> &'a str {
        assert!(
            redirect.starts_with(&format!("{REDIRECT_URI}?")),
            "{redirect}"
        );
        assert_eq!(
            query(redirect, "state").as_deref(),
            Some(state.secret().as_str())
        );
        assert_eq!(
            query(redirect, "iss").as_deref(),
            self.metadata["issuer"].as_str()
        );
        redirect
    }

    /// The front channel: an authorization URL with S256 for `scopes`, the login accepted,
    /// the code off the redirect; and its verifier.
    async fn code(&self, oauth: &Oauth2Client, scopes: &[&str]) -> (String, PkceCodeVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .url();
        let redirect = self.accept(self.login_challenge(&url).await).await;
        let code = query(self.redirected(&redirect, &state), "code").unwrap();
        assert!(code.starts_with("tsr_ac_"), "{code}");
        (code, verifier)
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

type Oauth2Client = oauth2::Client<
    oauth2::StandardErrorResponse<BasicErrorResponseType>,
    BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
    oauth2::EndpointSet,
    oauth2::EndpointSet,
>;

/// A registered client.
struct Registered {
    id: String,
    secret: Option<String>,
}

/// The value of `name` in `url`'s query.
fn query(url: &str, name: &str) -> Option<String> {
    let url = oauth2::url::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A client that does not follow redirects (the crate's own advice, and the test reads them).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// One exchange the crate made: what it sent and what came back.
#[derive(Debug)]
struct Seen {
    request_authorization: bool,
    request_body: String,
    status: StatusCode,
    www_authenticate: Option<String>,
}

/// The crate's reqwest client, recording every exchange (the crate turns answers into typed
/// errors without their status) and standing in for the TLS-terminating proxy.
struct Http {
    client: reqwest::Client,
    seen: Mutex<Vec<Seen>>,
}

impl Http {
    fn new() -> Self {
        Self {
            client: browser(),
            seen: Mutex::default(),
        }
    }

    fn last(&self) -> Seen {
        self.seen.lock().unwrap().pop().unwrap()
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, mut request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            if request.uri().scheme_str() == Some("https") {
                let plain = request.uri().to_string().replacen("https://", "http://", 1);
                *request.uri_mut() = plain.parse().unwrap();
            }
            let request_authorization = request.headers().contains_key(AUTHORIZATION);
            let request_body = String::from_utf8(request.body().clone()).unwrap();
            let response = self.client.call(request).await?;
            self.seen.lock().unwrap().push(Seen {
                request_authorization,
                request_body,
                status: response.status(),
                www_authenticate: response
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .map(|v| v.to_str().unwrap().to_owned()),
            });
            Ok(response)
        })
    }
}

/// The `error` of a refused token request.
fn refused<T: core::fmt::Debug>(
    result: Result<
        T,
        RequestTokenError<
            HttpClientError<reqwest::Error>,
            oauth2::StandardErrorResponse<BasicErrorResponseType>,
        >,
    >,
) -> BasicErrorResponseType {
    match result.unwrap_err() {
        RequestTokenError::ServerResponse(e) => {
            assert!(e.error_description().is_some(), "{e:?}");
            e.error().clone()
        }
        other => panic!("not an OAuth error answer: {other:?}"),
    }
}

async fn active(http: &Http, caller: &Oauth2Client, token: &str) -> bool {
    caller
        .introspect(&AccessToken::new(token.to_owned()))
        .request_async(http)
        .await
        .unwrap()
        .active()
}

#[tokio::test]
async fn code_grant_with_basic_auth_then_refresh_introspect_revoke() {
    let issuer = Issuer::start().await;
    let http = Http::new();
    let app = issuer
        .register("photo printer", "read write", "client_secret_basic")
        .await;
    let oauth = issuer.client(&app, AuthType::BasicAuth);

    let (code, verifier) = issuer.code(&oauth, &["read", "write"]).await;
    let tokens = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let seen = http.last();
    assert!(seen.request_authorization, "client_secret_basic");
    assert!(!seen.request_body.contains("client_secret"), "{seen:?}");
    assert_eq!(*tokens.token_type(), oauth2::basic::BasicTokenType::Bearer);
    assert_eq!(
        tokens.expires_in(),
        Some(core::time::Duration::from_secs(3600))
    );
    let scopes: Vec<_> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(scopes, ["read", "write"]);

    let info = oauth
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(info.active());
    assert_eq!(info.sub(), Some("alice"));
    assert_eq!(info.client_id().map(|c| c.as_str()), Some(app.id.as_str()));
    assert_eq!(info.iss(), issuer.metadata["issuer"].as_str());
    assert!(info.exp().is_some() && info.iat().is_some());

    let refreshed = oauth
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .add_scope(Scope::new("read".to_owned()))
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        tokens.refresh_token().unwrap().secret()
    );
    assert!(active(&http, &oauth, refreshed.access_token().secret()).await);

    // The crate will not revoke over plain http (RFC 7009 §2): the discovered URL as it is.
    let plain = RevocationUrl::new(issuer.endpoint("revocation_endpoint")).unwrap();
    let direct = oauth.clone().set_revocation_url(plain);
    let insecure = direct.revoke_token(StandardRevocableToken::AccessToken(AccessToken::new(
        "x".to_owned(),
    )));
    assert!(matches!(
        insecure,
        Err(ConfigurationError::InsecureUrl("revocation"))
    ));
    // Through the proxy stand-in.
    let revoked: StandardRevocableToken = refreshed.refresh_token().unwrap().clone().into();
    oauth
        .revoke_token(revoked)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(http.last().status, StatusCode::OK);
    assert!(!active(&http, &oauth, refreshed.refresh_token().unwrap().secret()).await);
    // RFC 7009 §2.2: an unknown token is revoked "successfully".
    oauth
        .revoke_token(StandardRevocableToken::AccessToken(AccessToken::new(
            "tsr_at_unknown".to_owned(),
        )))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    issuer.stop().await;
}

#[tokio::test]
async fn code_grant_with_the_secret_in_the_body() {
    let issuer = Issuer::start().await;
    let http = Http::new();
    let app = issuer
        .register("photo printer", "read", "client_secret_post")
        .await;
    let oauth = issuer.client(&app, AuthType::RequestBody);
    let (code, verifier) = issuer.code(&oauth, &["read"]).await;
    let tokens = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let seen = http.last();
    assert!(!seen.request_authorization, "client_secret_post");
    assert!(seen.request_body.contains("client_secret="), "{seen:?}");
    assert!(active(&http, &oauth, tokens.access_token().secret()).await);
    let refreshed = oauth
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    assert!(active(&http, &oauth, refreshed.access_token().secret()).await);
    issuer.stop().await;
}

#[tokio::test]
async fn a_public_client_sends_its_id_alone() {
    let issuer = Issuer::start().await;
    let http = Http::new();
    let spa = issuer.register("spa", "read", "none").await;
    assert!(spa.secret.is_none());
    let app = issuer
        .register("photo printer", "read", "client_secret_basic")
        .await;
    let oauth = issuer.client(&spa, AuthType::BasicAuth);
    let (code, verifier) = issuer.code(&oauth, &["read"]).await;
    let tokens = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let seen = http.last();
    assert!(!seen.request_authorization);
    assert!(!seen.request_body.contains("client_secret"), "{seen:?}");
    assert!(seen.request_body.contains("client_id="), "{seen:?}");
    assert!(tokens.refresh_token().is_some());
    let refreshed = oauth
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&http)
        .await
        .unwrap();
    // A public client may revoke its own tokens (RFC 7009 §2.1 with `none`) but not introspect.
    let revoked: StandardRevocableToken = refreshed.access_token().clone().into();
    oauth
        .revoke_token(revoked)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let refused = oauth
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await;
    assert!(refused.is_err());
    assert_eq!(http.last().status, StatusCode::UNAUTHORIZED);
    // Introspected by a confidential client it was not meant for: inactive either way.
    let other = issuer.client(&app, AuthType::BasicAuth);
    assert!(!active(&http, &other, refreshed.access_token().secret()).await);
    issuer.stop().await;
}

#[tokio::test]
async fn client_credentials_for_a_resource() {
    let issuer = Issuer::start().await;
    let http = Http::new();
    let worker = issuer
        .register("worker", "jobs", "client_secret_basic")
        .await;
    let api = issuer.register("api", "", "client_secret_post").await;
    let oauth = issuer.client(&worker, AuthType::BasicAuth);
    let tokens = oauth
        .exchange_client_credentials()
        .add_scope(Scope::new("jobs".to_owned()))
        .add_extra_param("resource", api.id.clone())
        .request_async(&http)
        .await
        .unwrap();
    assert!(tokens.refresh_token().is_none());
    let resource = issuer.client(&api, AuthType::RequestBody);
    let info = resource
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(info.active());
    assert_eq!(info.sub(), Some(worker.id.as_str()));
    assert_eq!(info.aud(), Some(&vec![api.id.clone()]));
    issuer.stop().await;
}

#[tokio::test]
async fn a_replayed_code_is_invalid_grant_and_revokes_its_tokens() {
    let issuer = Issuer::start().await;
    let http = Http::new();
    let app = issuer
        .register("photo printer", "read", "client_secret_basic")
        .await;
    let oauth = issuer.client(&app, AuthType::BasicAuth);
    let (code, verifier) = issuer.code(&oauth, &["read"]).await;
    let again = PkceCodeVerifier::new(verifier.secret().clone());
    let first = oauth
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let replay = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(again)
        .request_async(&http)
        .await;
    assert_eq!(refused(replay), BasicErrorResponseType::InvalidGrant);
    assert_eq!(http.last().status, StatusCode::BAD_REQUEST);
    assert!(!active(&http, &oauth, first.access_token().secret()).await);
    assert!(!active(&http, &oauth, first.refresh_token().unwrap().secret()).await);
    issuer.stop().await;
}

#[tokio::test]
async fn refresh_reuse_revokes_the_family() {
    let issuer = Issuer::start().await;
    let http = Http::new();
    let app = issuer
        .register("photo printer", "read", "client_secret_post")
        .await;
    let oauth = issuer.client(&app, AuthType::RequestBody);
    let (code, verifier) = issuer.code(&oauth, &["read"]).await;
    let first = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let old: &RefreshToken = first.refresh_token().unwrap();
    let second = oauth
        .exchange_refresh_token(old)
        .request_async(&http)
        .await
        .unwrap();
    let reuse = oauth.exchange_refresh_token(old).request_async(&http).await;
    assert_eq!(refused(reuse), BasicErrorResponseType::InvalidGrant);
    assert_eq!(http.last().status, StatusCode::BAD_REQUEST);
    assert!(!active(&http, &oauth, second.access_token().secret()).await);
    let successor = oauth
        .exchange_refresh_token(second.refresh_token().unwrap())
        .request_async(&http)
        .await;
    assert_eq!(refused(successor), BasicErrorResponseType::InvalidGrant);
    issuer.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_is_401_with_a_basic_challenge() {
    let issuer = Issuer::start().await;
    let http = Http::new();
    let mut app = issuer
        .register("photo printer", "read", "client_secret_basic")
        .await;
    let secret = app.secret.take().unwrap();
    let tail = if secret.ends_with("AAAA") {
        "BBBB"
    } else {
        "AAAA"
    };
    app.secret = Some(format!("{}{tail}", &secret[..secret.len() - 4]));
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let oauth = issuer.client(&app, auth);
        let answer = oauth
            .exchange_client_credentials()
            .request_async(&http)
            .await;
        assert_eq!(refused(answer), BasicErrorResponseType::InvalidClient);
        let seen = http.last();
        assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            seen.www_authenticate.as_deref(),
            Some("Basic realm=\"tessera\"")
        );
    }
    issuer.stop().await;
}

#[tokio::test]
async fn authorization_endpoint_errors() {
    let issuer = Issuer::start().await;
    let app = issuer
        .register("photo printer", "read", "client_secret_basic")
        .await;
    let oauth = issuer.client(&app, AuthType::BasicAuth);
    let read = || Scope::new("read".to_owned());

    // No redirect for an unknown client or an unregistered redirect URI (RFC 6749 §4.1.2.1).
    let stranger = issuer.client(
        &Registered {
            id: "tsr_ci_unknown".to_owned(),
            secret: None,
        },
        AuthType::BasicAuth,
    );
    let evil = RedirectUrl::new("https://evil.example/callback".to_owned()).unwrap();
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let unknown = stranger
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge.clone())
        .url()
        .0;
    let unregistered = oauth
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge.clone())
        .set_redirect_uri(std::borrow::Cow::Borrowed(&evil))
        .url()
        .0;
    for url in [unknown, unregistered] {
        let answer = browser().get(url.as_str()).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(answer.headers().get(LOCATION).is_none(), "{url}");
        let media = answer.headers()[CONTENT_TYPE].to_str().unwrap();
        assert!(media.starts_with("text/html"), "{media}");
    }

    // Every other error goes back to the client with state and iss.
    let cases = [
        (
            "no code_challenge",
            oauth.authorize_url(CsrfToken::new_random).add_scope(read()),
            "invalid_request",
        ),
        (
            "plain",
            oauth
                .authorize_url(CsrfToken::new_random)
                .add_scope(read())
                .add_extra_param("code_challenge", "a".repeat(43))
                .add_extra_param("code_challenge_method", "plain"),
            "invalid_request",
        ),
        (
            "response_type=token",
            oauth
                .authorize_url(CsrfToken::new_random)
                .add_scope(read())
                .set_pkce_challenge(challenge.clone())
                .use_implicit_flow(),
            "unsupported_response_type",
        ),
        (
            "scope beyond the client's",
            oauth
                .authorize_url(CsrfToken::new_random)
                .add_scope(Scope::new("admin".to_owned()))
                .set_pkce_challenge(challenge.clone()),
            "invalid_scope",
        ),
    ];
    for (case, request, error) in cases {
        let (url, state) = request.url();
        let answer = browser().get(url.as_str()).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{case}");
        let location = answer.headers()[LOCATION].to_str().unwrap();
        issuer.redirected(location, &state);
        assert_eq!(query(location, "error").as_deref(), Some(error), "{case}");
        assert!(query(location, "error_description").is_some(), "{case}");
        assert!(query(location, "code").is_none(), "{case}");
    }
    issuer.stop().await;
}

#[tokio::test]
async fn reject_login_is_access_denied() {
    let issuer = Issuer::start().await;
    let app = issuer
        .register("photo printer", "read", "client_secret_basic")
        .await;
    let oauth = issuer.client(&app, AuthType::BasicAuth);
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let redirect = issuer.reject(issuer.login_challenge(&url).await).await;
    issuer.redirected(&redirect, &state);
    assert_eq!(query(&redirect, "error").as_deref(), Some("access_denied"));
    assert!(query(&redirect, "code").is_none());
    issuer.stop().await;
}
