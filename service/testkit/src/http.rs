//! A real HTTP client (reqwest) for the OAuth endpoints of a [`TestServer`], and the form
//! requests and assertions the HTTP tests share.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tessera_proto::v1::RegisterResponse;

use crate::server::{REDIRECT_URI, TestServer, VERIFIER};

/// A real HTTP client for one server.
#[derive(Debug)]
pub struct Http {
    /// The client: it does not follow redirects.
    pub client: reqwest::Client,
    /// The server's issuer URL.
    pub base: String,
}

/// Who authenticates a form request, and how.
#[derive(Debug)]
pub enum Auth<'a> {
    /// No client credentials.
    None,
    /// `client_secret_basic`.
    Basic(&'a RegisterResponse),
    /// `client_secret_post`.
    Post(&'a RegisterResponse),
    /// Both at once (refused: one method per request).
    Both(&'a RegisterResponse),
}

/// A response, its body parsed as JSON (`Null` if empty).
#[derive(Debug)]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Value,
}

impl Http {
    /// A client of `server`'s HTTP endpoints.
    pub fn new(server: &TestServer) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.issuer(),
        }
    }

    /// Reads `response` whole.
    pub async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// POSTs `fields` as a form to `path`, authenticated as `auth` says.
    pub async fn form(&self, path: &str, auth: Auth<'_>, fields: &[(&str, &str)]) -> Answer {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        let mut request = self.client.post(format!("{}{path}", self.base));
        match auth {
            Auth::None => {}
            Auth::Basic(c) => request = request.basic_auth(&c.client_id, Some(&c.client_secret)),
            Auth::Post(c) => {
                fields.push(("client_id", &c.client_id));
                fields.push(("client_secret", &c.client_secret));
            }
            Auth::Both(c) => {
                request = request.basic_auth(&c.client_id, Some(&c.client_secret));
                fields.push(("client_secret", &c.client_secret));
            }
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let response = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        Self::answer(response).await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Answer {
        Self::answer(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

/// The form of an `authorization_code` token request for `code` with [`REDIRECT_URI`] and
/// [`VERIFIER`].
pub fn code_fields(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ]
}

/// Asserts an OAuth error answer: its status, its `error` and a description.
pub fn assert_error(answer: &Answer, status: StatusCode, error: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["error"], error, "{}", answer.body);
    assert!(
        answer.body["error_description"].is_string(),
        "{}",
        answer.body
    );
}
