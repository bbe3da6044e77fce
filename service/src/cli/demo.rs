//! `tessera demo`: the authorization-code flow, step by step, against a running server: as
//! text, or with `--json` as one JSON document of the whole walk.

use clap::Args;
use serde_json::{Value, json};
use tessera_proto::v1::{ExchangeRequest, IntrospectRequest, IssueCodeRequest, RegisterRequest};

use super::client::{Connection, Operator, authorized, connect, new_pkce, operator_header};
use super::say;
use crate::authority::{GrantType, TokenTypeHint};
use crate::credentials::basic_header;

/// `tessera demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    operator: Operator,
}

/// The start of a credential, enough to recognise it; the rest stays off the terminal.
fn shown(credential: &str) -> String {
    let head: String = credential.chars().take(14).collect();
    format!("{head}… ({} chars)", credential.len())
}

const REDIRECT_URI: &str = "https://photos.example/callback";

/// Tells the walk: each step's title and facts, printed as they happen, or gathered into one
/// JSON document printed at the end.
struct Narrator {
    json: bool,
    steps: Vec<Value>,
}

impl Narrator {
    /// A new step: its title, and its facts as (label, text for the terminal, JSON value).
    fn step(&mut self, title: &str, facts: &[(&str, String, Value)]) -> anyhow::Result<()> {
        let number = self.steps.len().saturating_add(1);
        if self.json {
            let mut step = serde_json::Map::new();
            step.insert("step".to_owned(), json!(number));
            step.insert("title".to_owned(), json!(title));
            for (label, _, value) in facts {
                step.insert(label.to_lowercase().replace(' ', "_"), value.clone());
            }
            self.steps.push(Value::Object(step));
        } else {
            self.steps.push(Value::Null);
            say!("{number}. {title}");
            for (label, text, _) in facts {
                let label = format!("{label}:");
                say!("   {label:<18} {text}");
            }
        }
        Ok(())
    }

    fn finish(self, note: &str) -> anyhow::Result<()> {
        if self.json {
            say!("{}", json!({ "steps": self.steps, "note": note }));
        } else {
            say!("{note}");
        }
        Ok(())
    }
}

/// A fact shown as `text` on the terminal and as the string `text` in JSON.
fn fact(label: &str, text: impl Into<String>) -> (&str, String, Value) {
    let text = text.into();
    (label, text.clone(), Value::String(text))
}

pub(super) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let mut api = connect(&args.connection).await?;
    let operator = operator_header(&args.operator)?;
    let mut narrator = Narrator {
        json: args.connection.json,
        steps: Vec::new(),
    };

    let app = api
        .register(authorized(
            RegisterRequest {
                client_name: "Photo Printer".to_owned(),
                redirect_uris: vec![REDIRECT_URI.to_owned()],
                scope: "photos:read photos:write profile".to_owned(),
                public_client: false,
            },
            &operator,
        )?)
        .await
        .map_err(super::client::status)?
        .into_inner();
    let photo_api = api
        .register(authorized(
            RegisterRequest {
                client_name: "Photo API".to_owned(),
                redirect_uris: vec!["https://api.photos.example/unused".to_owned()],
                scope: String::new(),
                public_client: false,
            },
            &operator,
        )?)
        .await
        .map_err(super::client::status)?
        .into_inner();
    narrator.step(
        "The operator registers the application \"Photo Printer\" and the photo API.",
        &[
            fact("app client_id", app.client_id.clone()),
            (
                "app client_secret",
                format!(
                    "{} (shown once; Tessera keeps only a keyed hash)",
                    shown(&app.client_secret)
                ),
                json!(shown(&app.client_secret)),
            ),
            fact("API client_id", photo_api.client_id.clone()),
        ],
    )?;

    let (verifier, challenge) = new_pkce()?;
    narrator.step(
        "Alice chooses \"Sign in\" in the app; it makes a PKCE verifier and sends its S256 challenge.",
        &[fact("code_challenge", challenge.clone())],
    )?;

    let code = api
        .issue_code(authorized(
            IssueCodeRequest {
                client_id: app.client_id.clone(),
                redirect_uri: REDIRECT_URI.to_owned(),
                scope: "photos:read profile".to_owned(),
                subject: "alice".to_owned(),
                code_challenge: challenge,
                code_challenge_method: "S256".to_owned(),
                audience: vec![photo_api.client_id.clone()],
            },
            &operator,
        )?)
        .await
        .map_err(super::client::status)?
        .into_inner();
    narrator.step(
        "Alice signs in and consents; the authorization endpoint issues a code.",
        &[(
            "code",
            format!("{} (expires in {} s)", shown(&code.code), code.expires_in),
            json!({ "shown": shown(&code.code), "expires_in": code.expires_in }),
        )],
    )?;

    let app_auth = basic_header(&app.client_id, &app.client_secret);
    let exchange = ExchangeRequest {
        grant_type: GrantType::AuthorizationCode.as_str().to_owned(),
        code: code.code.clone(),
        redirect_uri: REDIRECT_URI.to_owned(),
        code_verifier: verifier.to_string(),
        ..ExchangeRequest::default()
    };
    let tokens = api
        .exchange(authorized(exchange.clone(), &app_auth)?)
        .await
        .map_err(super::client::status)?
        .into_inner();
    narrator.step(
        "The app exchanges the code, with its secret and the PKCE verifier, for tokens.",
        &[
            (
                "access_token",
                format!(
                    "{} ({}, {} s, scope \"{}\")",
                    shown(&tokens.access_token),
                    tokens.token_type,
                    tokens.expires_in,
                    tokens.scope
                ),
                json!({
                    "shown": shown(&tokens.access_token),
                    "token_type": tokens.token_type,
                    "expires_in": tokens.expires_in,
                    "scope": tokens.scope,
                }),
            ),
            fact("refresh_token", shown(&tokens.refresh_token)),
        ],
    )?;

    let api_auth = basic_header(&photo_api.client_id, &photo_api.client_secret);
    let introspect = IntrospectRequest {
        token: tokens.access_token.clone(),
        token_type_hint: TokenTypeHint::AccessToken.as_str().to_owned(),
    };
    let seen = api
        .introspect(authorized(introspect.clone(), &api_auth)?)
        .await
        .map_err(super::client::status)?
        .into_inner();
    narrator.step(
        "The app calls the photo API; the API introspects the token before serving.",
        &[(
            "introspection",
            format!(
                "active: {}, sub: {}, scope: \"{}\", client_id: {}, aud: {:?}",
                seen.active, seen.sub, seen.scope, seen.client_id, seen.aud
            ),
            json!({
                "active": seen.active, "sub": seen.sub, "scope": seen.scope,
                "client_id": seen.client_id, "aud": seen.aud,
            }),
        )],
    )?;

    let replay = match api.exchange(authorized(exchange, &app_auth)?).await {
        Ok(_) => fact("replay", "ACCEPTED: this is a bug"),
        Err(status) => fact(
            "replay",
            format!("refused: {:?}: {}", status.code(), status.message()),
        ),
    };
    narrator.step("An attacker replays the same code.", &[replay])?;

    let seen = api
        .introspect(authorized(introspect, &api_auth)?)
        .await
        .map_err(super::client::status)?
        .into_inner();
    narrator.step(
        "The API introspects the token again: the replay revoked everything from that code.",
        &[(
            "introspection",
            format!("active: {}", seen.active),
            json!({ "active": seen.active }),
        )],
    )?;
    narrator.finish(&format!(
        "The demo registered two clients ({} and {}); Tessera has no RPC to delete a client, so \
         they stay registered. Each run registers two more: point the demo at a scratch data \
         directory.",
        app.client_id, photo_api.client_id
    ))
}
