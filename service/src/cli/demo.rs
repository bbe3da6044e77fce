//! `tessera demo`: the authorization-code flow, step by step, against a running server.

use clap::Args;
use tessera_proto::v1::{ExchangeRequest, IntrospectRequest, IssueCodeRequest, RegisterRequest};

use super::client::{Connection, Operator, authorized, connect, new_pkce, operator_header};
use crate::auth::basic_header;

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

pub(super) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let mut api = connect(&args.connection).await?;
    let operator = operator_header(&args.operator)?;

    println!("1. The operator registers the application \"Photo Printer\" and the photo API.");
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
    println!("   app client_id:     {}", app.client_id);
    println!(
        "   app client_secret: {} (shown once; Tessera keeps only a keyed hash)",
        shown(&app.client_secret)
    );
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
    println!("   API client_id:     {}", photo_api.client_id);

    println!(
        "2. Alice chooses \"Sign in\" in the app; it makes a PKCE verifier and sends its S256 challenge."
    );
    let (verifier, challenge) = new_pkce()?;
    println!("   code_challenge:    {challenge}");

    println!("3. Alice signs in and consents; the authorization endpoint issues a code.");
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
    println!(
        "   code:              {} (expires in {} s)",
        shown(&code.code),
        code.expires_in
    );

    println!("4. The app exchanges the code, with its secret and the PKCE verifier, for tokens.");
    let app_auth = basic_header(&app.client_id, &app.client_secret);
    let exchange = ExchangeRequest {
        grant_type: "authorization_code".to_owned(),
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
    println!(
        "   access_token:      {} ({}, {} s, scope \"{}\")",
        shown(&tokens.access_token),
        tokens.token_type,
        tokens.expires_in,
        tokens.scope
    );
    println!("   refresh_token:     {}", shown(&tokens.refresh_token));

    println!("5. The app calls the photo API; the API introspects the token before serving.");
    let api_auth = basic_header(&photo_api.client_id, &photo_api.client_secret);
    let introspect = IntrospectRequest {
        token: tokens.access_token.clone(),
        token_type_hint: "access_token".to_owned(),
    };
    let seen = api
        .introspect(authorized(introspect.clone(), &api_auth)?)
        .await
        .map_err(super::client::status)?
        .into_inner();
    println!(
        "   active: {}, sub: {}, scope: \"{}\", client_id: {}, aud: {:?}",
        seen.active, seen.sub, seen.scope, seen.client_id, seen.aud
    );

    println!("6. An attacker replays the same code.");
    match api.exchange(authorized(exchange, &app_auth)?).await {
        Ok(_) => println!("   ACCEPTED: this is a bug"),
        Err(status) => println!("   refused: {:?}: {}", status.code(), status.message()),
    }

    println!(
        "7. The API introspects the token again: the replay revoked everything from that code."
    );
    let seen = api
        .introspect(authorized(introspect, &api_auth)?)
        .await
        .map_err(super::client::status)?
        .into_inner();
    println!("   active: {}", seen.active);
    Ok(())
}
