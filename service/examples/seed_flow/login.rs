//! The login and consent app: where Tessera's authorization endpoint sends the browser, with a
//! `login_challenge`. It reads the request behind the challenge (`GetLoginRequest`), signs the
//! user in against a fixed demo user list, asks for consent, and answers Tessera with
//! `AcceptLogin` or `RejectLogin`, whose `redirect_to` takes the browser back to the client.
//!
//! Every form carries a CSRF token (a hidden field) that is single use and bound to the
//! challenge and to this browser's cookie: another site cannot post a form for the user, nor
//! sign the user in as someone else.

use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{
    AcceptLoginRequest, GetLoginRequestRequest, GetLoginRequestResponse, RejectLoginRequest,
};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;
use zeroize::Zeroizing;

use crate::page::{escape, page, see_other};
use crate::request::{cookie, params, random_token, same_secret, session_cookie};

const NAME: &str = "Tessera sign-in (demo login app)";
const COLOUR: &str = "#276749";
const COOKIE: &str = "login_browser";
/// The demo's users and passwords: a demo, not an identity provider.
const USERS: [(&str, &str); 2] = [("alice", "wonderland"), ("bob", "builder")];
/// Outstanding forms at most, and how long one stays valid (a login challenge's longest life).
const MAX_FORMS: usize = 1024;
const FORM_TIME: Duration = Duration::from_secs(600);

/// A form handed out: the CSRF token's bindings.
struct Form {
    challenge: String,
    browser: String,
    /// Set once the user signed in: the consent form.
    subject: Option<String>,
    since: Instant,
}

/// The app: Tessera's operator RPCs and the outstanding forms, by CSRF token.
pub(crate) struct LoginApp {
    tessera: TokenServiceClient<Channel>,
    /// `Bearer <operator token>`, marked sensitive (never logged by the HTTP stack).
    operator: MetadataValue<Ascii>,
    forms: Mutex<HashMap<String, Form>>,
}

impl core::fmt::Debug for LoginApp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoginApp").finish_non_exhaustive()
    }
}

impl LoginApp {
    /// The app, calling Tessera over `tessera` with the operator token.
    pub(crate) fn new(tessera: Channel, operator: &str) -> anyhow::Result<Self> {
        let mut operator: MetadataValue<Ascii> =
            Zeroizing::new(format!("Bearer {operator}")).parse()?;
        operator.set_sensitive(true);
        Ok(Self {
            tessera: TokenServiceClient::new(tessera),
            operator,
            forms: Mutex::new(HashMap::new()),
        })
    }

    /// `message` with the operator token.
    fn operator<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", self.operator.clone());
        request
    }

    /// The authorization request behind `challenge`.
    async fn request(&self, challenge: &str) -> Result<GetLoginRequestResponse, Response> {
        let message = GetLoginRequestRequest {
            login_challenge: challenge.to_owned(),
        };
        match self
            .tessera
            .clone()
            .get_login_request(self.operator(message))
            .await
        {
            Ok(answer) => Ok(answer.into_inner()),
            Err(status) => Err(tessera_refused(&status)),
        }
    }

    /// A new CSRF token for a form about `challenge` in `browser`.
    fn issue(&self, challenge: &str, browser: &str, subject: Option<&str>) -> Option<String> {
        let token = random_token()?;
        let mut forms = self.forms.lock().unwrap_or_else(PoisonError::into_inner);
        forms.retain(|_, form| form.since.elapsed() < FORM_TIME);
        if forms.len() >= MAX_FORMS {
            return None;
        }
        let form = Form {
            challenge: challenge.to_owned(),
            browser: browser.to_owned(),
            subject: subject.map(str::to_owned),
            since: Instant::now(),
        };
        forms.insert(token.clone(), form);
        Some(token)
    }

    /// Spends the CSRF token of a posted form: its form, if it was issued for this challenge in
    /// this browser and has not expired.
    fn spend(&self, fields: &HashMap<String, String>, headers: &HeaderMap) -> Option<Form> {
        let token = fields.get("csrf")?;
        let form = self
            .forms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token)?;
        let browser = cookie(headers, COOKIE)?;
        let fresh = form.since.elapsed() < FORM_TIME;
        let bound = same_secret(&form.browser, browser)
            && fields.get("login_challenge") == Some(&form.challenge);
        (fresh && bound).then_some(form)
    }
}

/// The app's routes.
pub(crate) fn router(app: LoginApp) -> Router {
    Router::new()
        .route("/login", get(show_login).post(sign_in))
        .route("/consent", post(consent))
        .with_state(Arc::new(app))
}

/// `GET /login?login_challenge=…`: the sign-in form.
async fn show_login(State(app): State<Arc<LoginApp>>, headers: HeaderMap, uri: Uri) -> Response {
    let query = params(uri.query().unwrap_or_default().as_bytes());
    let Some(challenge) = query.get("login_challenge") else {
        return refused("This page is reached from an authorization request: no login_challenge.");
    };
    let request = match app.request(challenge).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let (browser, new) = match cookie(&headers, COOKIE) {
        Some(browser) => (browser.to_owned(), false),
        None => match random_token() {
            Some(browser) => (browser, true),
            None => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    };
    let mut response = login_form(&app, challenge, &browser, &request, "");
    if new && let Ok(value) = session_cookie(COOKIE, &browser).parse() {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

fn login_form(
    app: &LoginApp,
    challenge: &str,
    browser: &str,
    request: &GetLoginRequestResponse,
    notice: &str,
) -> Response {
    let Some(csrf) = app.issue(challenge, browser, None) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let body = format!(
        "<p>Sign in to continue to <b>{client}</b>.</p>{notice}\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"login_challenge\" value=\"{challenge}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>Username <input name=\"username\" autocomplete=\"username\"></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\
         <button>Sign in</button></form>\
         <p class=\"demo\">A demo: the users are fixed, alice (password <code>wonderland</code>) \
         and bob (<code>builder</code>). A real login app checks its own user store.</p>",
        client = escape(&request.client_name),
        challenge = escape(challenge),
    );
    page(StatusCode::OK, NAME, COLOUR, "Sign in", &body)
}

/// `POST /login`: checks the password, then the consent form.
async fn sign_in(State(app): State<Arc<LoginApp>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = params(&body);
    let Some(form) = app.spend(&fields, &headers) else {
        return refused(
            "This form has expired or was not made for this browser: start again from the app.",
        );
    };
    let request = match app.request(&form.challenge).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let username = fields
        .get("username")
        .map(String::as_str)
        .unwrap_or_default();
    let password = fields
        .get("password")
        .map(String::as_str)
        .unwrap_or_default();
    // Every entry is compared, in constant time, whichever matches.
    let known = USERS.iter().fold(false, |found, (user, pass)| {
        found | (same_secret(user, username) & same_secret(pass, password))
    });
    if !known {
        let notice = "<p><b>Wrong username or password.</b></p>";
        return login_form(&app, &form.challenge, &form.browser, &request, notice);
    }
    let Some(csrf) = app.issue(&form.challenge, &form.browser, Some(username)) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let scopes: String = request
        .scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let audience: String = request
        .audience
        .iter()
        .map(|a| format!("<li><code>{}</code></li>", escape(a)))
        .collect();
    let body = format!(
        "<p>Signed in as <b>{user}</b>.</p><p><b>{client}</b> asks to:</p><ul id=\"scope\">{scopes}</ul>\
         <p>at the APIs registered as:</p><ul>{audience}</ul>\
         <form method=\"post\" action=\"/consent\">\
         <input type=\"hidden\" name=\"login_challenge\" value=\"{challenge}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button name=\"decision\" value=\"allow\">Allow</button>\
         <button name=\"decision\" value=\"deny\">Deny</button></form>",
        user = escape(username),
        client = escape(&request.client_name),
        challenge = escape(&form.challenge),
    );
    page(StatusCode::OK, NAME, COLOUR, "Allow access?", &body)
}

/// `POST /consent`: `AcceptLogin` or `RejectLogin`, then back to the client.
async fn consent(State(app): State<Arc<LoginApp>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = params(&body);
    let Some(Form {
        challenge,
        subject: Some(subject),
        ..
    }) = app.spend(&fields, &headers)
    else {
        return refused(
            "This form has expired or was not made for this browser: start again from the app.",
        );
    };
    let mut api = app.tessera.clone();
    let answer = if fields.get("decision").map(String::as_str) == Some("allow") {
        let message = AcceptLoginRequest {
            login_challenge: challenge,
            subject,
            // Empty: what the client asked for, for the APIs it named.
            scope: String::new(),
            audience: Vec::new(),
        };
        api.accept_login(app.operator(message))
            .await
            .map(|a| a.into_inner().redirect_to)
    } else {
        let message = RejectLoginRequest {
            login_challenge: challenge,
            error: "access_denied".to_owned(),
            error_description: "the user denied the request".to_owned(),
        };
        api.reject_login(app.operator(message))
            .await
            .map(|a| a.into_inner().redirect_to)
    };
    match answer {
        Ok(redirect_to) => see_other(&redirect_to),
        Err(status) => tessera_refused(&status),
    }
}

/// Tessera refused the challenge: its status message is fixed text, never a secret.
fn tessera_refused(status: &tonic::Status) -> Response {
    tracing::info!(code = ?status.code(), message = status.message(), "Tessera refused the login challenge");
    refused(&format!(
        "Tessera refused this sign-in: {}",
        status.message()
    ))
}

fn refused(why: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        NAME,
        COLOUR,
        "Cannot sign in",
        &format!("<p>{}</p>", escape(why)),
    )
}
