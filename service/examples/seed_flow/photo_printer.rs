//! "Photo Printer", the OAuth client (RFC 6749 §4.1): a web app that prints alice's photos. It
//! discovers Tessera's endpoints (RFC 8414), sends the browser to the authorization endpoint
//! with a PKCE S256 challenge (RFC 7636) and a random `state`, checks `state` and `iss`
//! (RFC 9207) on its callback, exchanges the code at the token endpoint (`client_secret_basic`)
//! and calls the photo API with the access token. The verifier, `state` and token stay in a
//! server-side session; the browser holds only the session id.

use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use tessera_core::{CHALLENGE_TEXT_LEN, CodeChallenge, CodeVerifier};
use tessera_service::rng::SharedRng;
use zeroize::Zeroizing;

use crate::page::{escape, page, see_other};
use crate::photo_api::SCOPE;
use crate::request::{cookie, params, random_token, same_secret, session_cookie};

const NAME: &str = "Photo Printer";
const COLOUR: &str = "#2b6cb0";
const COOKIE: &str = "printer_session";
/// Sessions held at most, and how long a sign-in may take.
const MAX_SESSIONS: usize = 1024;
const SIGN_IN_TIME: Duration = Duration::from_secs(600);

/// The endpoints the app discovered (RFC 8414 §2; other fields are ignored).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    registration_endpoint: String,
}

/// Reads the authorization server metadata of `issuer` (RFC 8414 §3) and checks it is its own.
pub(crate) async fn discover(http: &reqwest::Client, issuer: &str) -> anyhow::Result<Metadata> {
    let url = format!("{issuer}/.well-known/oauth-authorization-server");
    let metadata: Metadata = http
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if metadata.issuer != issuer {
        bail!("{url} names another issuer (RFC 8414 §3.3)");
    }
    Ok(metadata)
}

/// Registers the app (RFC 7591 §3) with the operator's initial access token: its redirect URI
/// and scope. Returns its `client_id` and `client_secret`.
pub(crate) async fn register(
    http: &reqwest::Client,
    metadata: &Metadata,
    operator: &str,
    redirect_uri: &str,
) -> anyhow::Result<(String, Zeroizing<String>)> {
    #[derive(Deserialize)]
    struct Registered {
        client_id: String,
        client_secret: String,
    }
    let body = json!({
        "client_name": NAME, "redirect_uris": [redirect_uri], "scope": SCOPE,
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let answer = http
        .post(&metadata.registration_endpoint)
        .header(AUTHORIZATION, format!("Bearer {operator}"))
        .json(&body)
        .send()
        .await?;
    let status = answer.status();
    if status != StatusCode::CREATED {
        bail!("registration answered {status}: {}", answer.text().await?);
    }
    let registered: Registered = answer.json().await.context("the registration answer")?;
    Ok((
        registered.client_id,
        Zeroizing::new(registered.client_secret),
    ))
}

/// A browser's session.
enum Session {
    /// Sent to sign in, with what the callback checks.
    Pending {
        state: String,
        verifier: CodeVerifier,
        since: Instant,
    },
    /// Signed in: the token the app calls the API with.
    SignedIn { access_token: Zeroizing<String> },
}

/// The app: its registration, what it discovered, and its sessions.
pub(crate) struct PhotoPrinter {
    /// Where it listens, `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    pub(crate) client_id: String,
    /// `Basic base64(client_id ":" client_secret)`.
    pub(crate) credentials: Zeroizing<String>,
    pub(crate) metadata: Metadata,
    /// The photo API: its URL and its client id, the audience the app asks for (RFC 8707).
    pub(crate) api_url: String,
    pub(crate) api_audience: String,
    pub(crate) http: reqwest::Client,
    pub(crate) rng: SharedRng,
    sessions: Mutex<HashMap<String, Session>>,
}

impl core::fmt::Debug for PhotoPrinter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PhotoPrinter")
            .field("base", &self.base)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl PhotoPrinter {
    /// The app at `base`, registered as `client_id` with `client_secret`.
    pub(crate) fn new(
        base: String,
        (client_id, client_secret): (String, Zeroizing<String>),
        metadata: Metadata,
        (api_url, api_audience): (String, String),
        http: reqwest::Client,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            credentials: tessera_service::credentials::basic_header(&client_id, &client_secret),
            base,
            client_id,
            metadata,
            api_url,
            api_audience,
            http,
            rng: SharedRng::from_os()?,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    fn redirect_uri(&self) -> String {
        format!("{}/callback", self.base)
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The app's routes.
pub(crate) fn router(app: PhotoPrinter) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/callback", get(callback))
        .route("/photos", get(photos))
        .with_state(Arc::new(app))
}

async fn home() -> Response {
    page(
        StatusCode::OK,
        NAME,
        COLOUR,
        "Print your photos",
        "<p>Photo Printer prints the photos you keep at the photo API.</p>\
         <form method=\"post\" action=\"/login\"><button>Sign in with Tessera</button></form>",
    )
}

/// Starts a sign-in: a new session with a PKCE pair and `state`, then the authorization request.
async fn login(State(app): State<Arc<PhotoPrinter>>) -> Response {
    let (Some(id), Some(state)) = (random_token(), random_token()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let verifier = app.rng.with(CodeVerifier::generate);
    let mut text = [0u8; CHALLENGE_TEXT_LEN];
    let challenge = CodeChallenge::s256(&verifier).encode(&mut text).to_owned();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", &app.redirect_uri())
        .append_pair("scope", SCOPE)
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", &app.api_audience)
        .finish();
    {
        let mut sessions = app.sessions();
        sessions.retain(
            |_, s| !matches!(s, Session::Pending { since, .. } if since.elapsed() > SIGN_IN_TIME),
        );
        if sessions.len() >= MAX_SESSIONS {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        let since = Instant::now();
        sessions.insert(
            id.clone(),
            Session::Pending {
                state,
                verifier,
                since,
            },
        );
    }
    let mut response = see_other(&format!("{}?{query}", app.metadata.authorization_endpoint));
    if let Ok(value) = session_cookie(COOKIE, &id).parse() {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// The redirection endpoint (RFC 6749 §3.1.2): checks `state` and `iss`, then exchanges the code.
async fn callback(State(app): State<Arc<PhotoPrinter>>, headers: HeaderMap, uri: Uri) -> Response {
    let query = params(uri.query().unwrap_or_default().as_bytes());
    let field = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let session =
        cookie(&headers, COOKIE).and_then(|id| Some((id.to_owned(), app.sessions().remove(id)?)));
    let Some((
        id,
        Session::Pending {
            state, verifier, ..
        },
    )) = session
    else {
        return failed("No sign-in is in progress in this browser.");
    };
    // RFC 6749 §10.12: the answer belongs to the request this browser made.
    if !same_secret(field("state"), &state) {
        return failed("The answer's state is not this sign-in's.");
    }
    // RFC 9207 §2.4: the answer comes from the server the request went to.
    if field("iss") != app.metadata.issuer {
        return failed("The answer does not come from the authorization server it was sent to.");
    }
    match field("error") {
        "" => {}
        "access_denied" => {
            return page(
                StatusCode::FORBIDDEN,
                NAME,
                COLOUR,
                "Access denied",
                "<p>You did not allow Photo Printer to read your photos, so it has nothing to \
                 print.</p><form method=\"post\" action=\"/login\"><button>Sign in with \
                 Tessera</button></form>",
            );
        }
        error => return failed(&format!("The authorization server answered {error}.")),
    }
    match exchange(&app, field("code"), &verifier).await {
        Ok(access_token) => {
            app.sessions()
                .insert(id, Session::SignedIn { access_token });
            see_other("/photos")
        }
        Err(e) => {
            tracing::warn!(error = %e, "the code exchange failed");
            failed("The authorization server did not exchange the code.")
        }
    }
}

/// The token request (RFC 6749 §4.1.3) with the PKCE verifier; the access token.
async fn exchange(
    app: &PhotoPrinter,
    code: &str,
    verifier: &CodeVerifier,
) -> anyhow::Result<Zeroizing<String>> {
    #[derive(Deserialize)]
    struct Tokens {
        access_token: String,
    }
    let body = Zeroizing::new(
        form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &app.redirect_uri())
            .append_pair("code_verifier", verifier.expose())
            .finish(),
    );
    let answer = app
        .http
        .post(&app.metadata.token_endpoint)
        .header(AUTHORIZATION, app.credentials.as_str())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.as_str().to_owned())
        .send()
        .await?;
    let status = answer.status();
    if status != StatusCode::OK {
        // The body is an OAuth error object: no token in it.
        bail!(
            "the token endpoint answered {status}: {}",
            answer.text().await?
        );
    }
    Ok(Zeroizing::new(answer.json::<Tokens>().await?.access_token))
}

/// The signed-in user's photos, from the photo API with the session's access token.
async fn photos(State(app): State<Arc<PhotoPrinter>>, headers: HeaderMap) -> Response {
    let token = cookie(&headers, COOKIE).and_then(|id| match app.sessions().get(id) {
        Some(Session::SignedIn { access_token }) => Some(access_token.clone()),
        _ => None,
    });
    let Some(token) = token else {
        return see_other("/");
    };
    #[derive(Deserialize)]
    struct Photo {
        title: String,
        taken: String,
    }
    #[derive(Deserialize)]
    struct Album {
        sub: String,
        photos: Vec<Photo>,
    }
    let answer = app
        .http
        .get(format!("{}/photos", app.api_url))
        .bearer_auth(token.as_str())
        .send()
        .await;
    let album = match answer {
        Ok(answer) if answer.status() == StatusCode::OK => answer.json::<Album>().await.ok(),
        Ok(answer) => {
            tracing::warn!(status = %answer.status(), "the photo API refused the token");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "the photo API did not answer");
            None
        }
    };
    let Some(album) = album else {
        return failed("The photo API refused to show your photos.");
    };
    let items: String = album
        .photos
        .iter()
        .map(|p| {
            format!(
                "<li>{} <small>({})</small></li>",
                escape(&p.title),
                escape(&p.taken)
            )
        })
        .collect();
    page(
        StatusCode::OK,
        NAME,
        COLOUR,
        &format!("{}'s photos", album.sub),
        &format!(
            "<p>{} photos from the photo API, ready to print:</p><ul id=\"photos\">{items}</ul>",
            album.photos.len()
        ),
    )
}

fn failed(why: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        NAME,
        COLOUR,
        "Sign-in failed",
        &format!("<p>{}</p><p><a href=\"/\">Start again</a></p>", escape(why)),
    )
}
