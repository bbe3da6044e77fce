//! Client subcommands: one RPC each, printed as text or `--json`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use tessera_core::{CHALLENGE_TEXT_LEN, CodeChallenge, CodeVerifier};
use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{
    AcceptLoginRequest, ExchangeRequest, GetLoginRequestRequest, IntrospectRequest,
    IssueCodeRequest, RegisterRequest, RejectLoginRequest, RevokeRequest,
};
use tonic::Request;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use zeroize::Zeroizing;

use super::say;
use crate::authority::GrantType;
use crate::credentials::{AUTHORIZATION, basic_header};

/// Where the server is, and how to print.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The server's URL.
    #[arg(long, env = "TESSERA_SERVER", default_value = "http://127.0.0.1:50051")]
    pub server: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Only the output format.
#[derive(Debug, Clone, Args)]
pub struct Output {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The operator's credentials.
#[derive(Debug, Clone, Args)]
pub struct Operator {
    /// File holding the operator token (`<data-dir>/operator_token`).
    #[arg(
        long,
        env = "TESSERA_OPERATOR_TOKEN_FILE",
        default_value = "./tessera-data/operator_token"
    )]
    pub operator_token_file: PathBuf,
}

/// A client's credentials (a public client gives only its id).
#[derive(Debug, Clone, Args)]
pub struct ClientCredentials {
    /// The client id.
    #[arg(long, env = "TESSERA_CLIENT_ID")]
    pub client_id: String,
    /// The client secret; `-` reads it from standard input, `@FILE` from a file (arguments are
    /// visible to every local user in `ps`: prefer those, or the environment variable).
    #[arg(
        long,
        env = "TESSERA_CLIENT_SECRET",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub client_secret: Option<String>,
}

/// `tessera register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    operator: Operator,
    /// The client's name.
    #[arg(long)]
    name: String,
    /// A redirect URI (repeat for more).
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    /// The most the client may be granted, space-separated.
    #[arg(long, default_value = "")]
    scope: String,
    /// A public client (no secret).
    #[arg(long)]
    public: bool,
}

/// `tessera login show|accept|reject`: the login app's RPCs (operator).
#[derive(Debug, clap::Subcommand)]
pub enum LoginCommand {
    /// Print the authorization request a login challenge carries.
    Show(LoginArgs),
    /// Sign the user in: issue the code and print where to send the browser.
    Accept {
        #[command(flatten)]
        login: LoginArgs,
        /// The signed-in user.
        #[arg(long)]
        subject: String,
        /// The scope granted, within the requested one (default: all of it).
        #[arg(long, default_value = "")]
        scope: String,
        /// A resource server's client id that may introspect (repeatable; default: the
        /// request's `resource` values).
        #[arg(long)]
        audience: Vec<String>,
    },
    /// Refuse the request and print where to send the browser.
    Reject {
        #[command(flatten)]
        login: LoginArgs,
        /// An RFC 6749 §4.1.2.1 error code (default `access_denied`).
        #[arg(long, default_value = "")]
        error: String,
        /// Text for the client (printable ASCII without `"` or `\`).
        #[arg(long, default_value = "")]
        error_description: String,
    },
}

/// The challenge a `tessera login` command acts on, and how to reach the server.
#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    operator: Operator,
    /// The `login_challenge` the authorization endpoint sent to the login app; `-` reads it
    /// from standard input, `@FILE` from a file.
    #[arg(long, allow_hyphen_values = true)]
    login_challenge: String,
}

/// `tessera issue-code`.
#[derive(Debug, Args)]
pub struct IssueCodeArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    operator: Operator,
    /// The client the code is for.
    #[arg(long)]
    client_id: String,
    /// One of the client's redirect URIs.
    #[arg(long)]
    redirect_uri: String,
    /// The scope granted.
    #[arg(long, default_value = "")]
    scope: String,
    /// The signed-in user.
    #[arg(long)]
    subject: String,
    /// The client's PKCE challenge (see `tessera pkce`); may start with `-`.
    #[arg(long, allow_hyphen_values = true)]
    code_challenge: String,
    /// Only `S256` is accepted.
    #[arg(long, default_value = "S256")]
    code_challenge_method: String,
    /// A resource server's client id that may introspect (repeat for more).
    #[arg(long)]
    audience: Vec<String>,
}

/// `tessera exchange`.
#[derive(Debug, Args)]
pub struct ExchangeArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    client: ClientCredentials,
    /// `authorization_code`, `refresh_token` or `client_credentials`.
    #[arg(long, default_value = GrantType::AuthorizationCode.as_str())]
    grant_type: String,
    /// The authorization code; `-` reads it from standard input, `@FILE` from a file.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    code: String,
    /// The redirect URI the code was issued for.
    #[arg(long, default_value = "")]
    redirect_uri: String,
    /// The PKCE verifier (may start with `-`); `-` alone reads it from standard input, `@FILE`
    /// from a file.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    code_verifier: String,
    /// The refresh token (refresh_token grant); `-` reads it from standard input, `@FILE` from a
    /// file.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    refresh_token: String,
    /// A narrower scope (refresh_token grant), or the scope asked for (client_credentials).
    #[arg(long, default_value = "")]
    scope: String,
    /// A resource server's client id that may introspect the token (client_credentials grant;
    /// repeatable).
    #[arg(long)]
    resource: Vec<String>,
}

/// `tessera introspect`.
#[derive(Debug, Args)]
pub struct IntrospectArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    client: ClientCredentials,
    /// The token; `-` reads it from standard input, `@FILE` from a file.
    #[arg(long, allow_hyphen_values = true)]
    token: String,
    /// `access_token` or `refresh_token`.
    #[arg(long, default_value = "")]
    token_type_hint: String,
}

/// `tessera revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    client: ClientCredentials,
    /// The token; `-` reads it from standard input, `@FILE` from a file.
    #[arg(long, allow_hyphen_values = true)]
    token: String,
    /// `access_token` or `refresh_token`.
    #[arg(long, default_value = "")]
    token_type_hint: String,
}

/// Connects to the server.
pub(super) async fn connect(
    connection: &Connection,
) -> anyhow::Result<TokenServiceClient<Channel>> {
    Ok(TokenServiceClient::new(channel(connection).await?))
}

/// A channel to `--server`, which must be a URL such as `http://127.0.0.1:50051`.
async fn channel(connection: &Connection) -> anyhow::Result<Channel> {
    let server = &connection.server;
    let endpoint = Channel::from_shared(server.clone())
        .ok()
        .filter(|_| server.starts_with("http://") || server.starts_with("https://"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--server {server:?} is not a URL: give one such as http://127.0.0.1:50051"
            )
        })?;
    endpoint.connect().await.map_err(|e| {
        let cause =
            core::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
        anyhow::anyhow!("cannot connect to {server}: {cause}; is `tessera serve` running there?")
    })
}

/// A credential given as an argument: itself, or `-` for a line of standard input, or `@FILE`
/// for the first line of a file (arguments are visible to every local user; these are not).
/// Credentials never start with `@`, nor are they `-` alone.
fn credential(
    value: &str,
    what: &str,
    stdin_taken: &mut bool,
) -> anyhow::Result<Zeroizing<String>> {
    let text = if value == "-" {
        if core::mem::replace(stdin_taken, true) {
            anyhow::bail!("{what}: standard input is already read for another value");
        }
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| anyhow::anyhow!("{what}: cannot read standard input: {e}"))?;
        line
    } else if let Some(path) = value.strip_prefix('@') {
        Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{what}: cannot read {path}: {e}"))?,
        )
    } else {
        return Ok(Zeroizing::new(value.to_owned()));
    };
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or("").trim().to_owned(),
    ))
}

/// Wraps `message` with an `authorization` value.
pub(super) fn authorized<T>(message: T, authorization: &str) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        AUTHORIZATION,
        authorization.parse().context("bad credentials")?,
    );
    Ok(request)
}

pub(super) fn operator_header(operator: &Operator) -> anyhow::Result<Zeroizing<String>> {
    let path = &operator.operator_token_file;
    let token = crate::keys::read_operator_token(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            // Its message names the file and the fix already.
            anyhow::anyhow!(e.to_string())
        } else {
            anyhow::anyhow!(
                "cannot read the operator token from {}: {e}; pass --operator-token-file \
                 <data-dir>/operator_token (or set TESSERA_OPERATOR_TOKEN_FILE)",
                path.display()
            )
        }
    })?;
    Ok(Zeroizing::new(format!("Bearer {}", token.expose())))
}

/// The request with Basic credentials, or bare for a public client.
fn client_request<T>(
    message: T,
    client: &ClientCredentials,
    stdin_taken: &mut bool,
) -> anyhow::Result<Request<T>> {
    match &client.client_secret {
        Some(secret) => {
            let secret = credential(secret, "--client-secret", stdin_taken)?;
            authorized(message, &basic_header(&client.client_id, &secret))
        }
        None => Ok(Request::new(message)),
    }
}

/// Turns a status into an error whose text is the code and the server's message.
pub(super) fn status(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

pub(super) fn print(json: bool, value: &serde_json::Value) -> anyhow::Result<()> {
    if json {
        say!("{value}");
    } else if let Some(object) = value.as_object() {
        for (key, value) in object {
            match value {
                serde_json::Value::String(s) => say!("{key}: {s}"),
                other => say!("{key}: {other}"),
            }
        }
    }
    Ok(())
}

pub(super) async fn register(args: RegisterArgs) -> anyhow::Result<()> {
    let request = authorized(
        RegisterRequest {
            client_name: args.name,
            redirect_uris: args.redirect_uris,
            scope: args.scope,
            public_client: args.public,
        },
        &operator_header(&args.operator)?,
    )?;
    let r = connect(&args.connection)
        .await?
        .register(request)
        .await
        .map_err(status)?
        .into_inner();
    print(
        args.connection.json,
        &json!({
            "client_id": r.client_id,
            "client_secret": r.client_secret,
            "client_id_issued_at": r.client_id_issued_at,
            "client_secret_expires_at": r.client_secret_expires_at,
        }),
    )
}

pub(super) async fn login(command: LoginCommand) -> anyhow::Result<()> {
    let stdin = &mut false;
    match command {
        LoginCommand::Show(args) => {
            let request = authorized(
                GetLoginRequestRequest {
                    login_challenge: credential(&args.login_challenge, "--login-challenge", stdin)?
                        .to_string(),
                },
                &operator_header(&args.operator)?,
            )?;
            let r = connect(&args.connection)
                .await?
                .get_login_request(request)
                .await
                .map_err(status)?
                .into_inner();
            print(
                args.connection.json,
                &json!({
                    "client_id": r.client_id,
                    "client_name": r.client_name,
                    "redirect_uri": r.redirect_uri,
                    "scope": r.scope,
                    "audience": r.audience,
                    "expires_at": r.expires_at,
                }),
            )
        }
        LoginCommand::Accept {
            login,
            subject,
            scope,
            audience,
        } => {
            let request = authorized(
                AcceptLoginRequest {
                    login_challenge: credential(
                        &login.login_challenge,
                        "--login-challenge",
                        stdin,
                    )?
                    .to_string(),
                    subject,
                    scope,
                    audience,
                },
                &operator_header(&login.operator)?,
            )?;
            let r = connect(&login.connection)
                .await?
                .accept_login(request)
                .await
                .map_err(status)?
                .into_inner();
            print(
                login.connection.json,
                &json!({ "redirect_to": r.redirect_to }),
            )
        }
        LoginCommand::Reject {
            login,
            error,
            error_description,
        } => {
            let request = authorized(
                RejectLoginRequest {
                    login_challenge: credential(
                        &login.login_challenge,
                        "--login-challenge",
                        stdin,
                    )?
                    .to_string(),
                    error,
                    error_description,
                },
                &operator_header(&login.operator)?,
            )?;
            let r = connect(&login.connection)
                .await?
                .reject_login(request)
                .await
                .map_err(status)?
                .into_inner();
            print(
                login.connection.json,
                &json!({ "redirect_to": r.redirect_to }),
            )
        }
    }
}

pub(super) async fn issue_code(args: IssueCodeArgs) -> anyhow::Result<()> {
    let request = authorized(
        IssueCodeRequest {
            client_id: args.client_id,
            redirect_uri: args.redirect_uri,
            scope: args.scope,
            subject: args.subject,
            code_challenge: args.code_challenge,
            code_challenge_method: args.code_challenge_method,
            audience: args.audience,
        },
        &operator_header(&args.operator)?,
    )?;
    let r = connect(&args.connection)
        .await?
        .issue_code(request)
        .await
        .map_err(status)?
        .into_inner();
    print(
        args.connection.json,
        &json!({ "code": r.code, "expires_in": r.expires_in }),
    )
}

pub(super) async fn exchange(args: ExchangeArgs) -> anyhow::Result<()> {
    let public_id = if args.client.client_secret.is_some() {
        String::new()
    } else {
        args.client.client_id.clone()
    };
    let stdin = &mut false;
    let request = client_request(
        ExchangeRequest {
            grant_type: args.grant_type,
            code: credential(&args.code, "--code", stdin)?.to_string(),
            redirect_uri: args.redirect_uri,
            code_verifier: credential(&args.code_verifier, "--code-verifier", stdin)?.to_string(),
            client_id: public_id,
            refresh_token: credential(&args.refresh_token, "--refresh-token", stdin)?.to_string(),
            scope: args.scope,
            resource: args.resource,
        },
        &args.client,
        stdin,
    )?;
    let r = connect(&args.connection)
        .await?
        .exchange(request)
        .await
        .map_err(status)?
        .into_inner();
    print(
        args.connection.json,
        &json!({
            "access_token": r.access_token,
            "token_type": r.token_type,
            "expires_in": r.expires_in,
            "scope": r.scope,
            "refresh_token": r.refresh_token,
        }),
    )
}

pub(super) async fn introspect(args: IntrospectArgs) -> anyhow::Result<()> {
    if args.client.client_secret.is_none() {
        anyhow::bail!(
            "introspection needs a confidential client's secret (TESSERA_CLIENT_SECRET or \
             --client-secret): public clients cannot introspect"
        );
    }
    let stdin = &mut false;
    let request = client_request(
        IntrospectRequest {
            token: credential(&args.token, "--token", stdin)?.to_string(),
            token_type_hint: args.token_type_hint,
        },
        &args.client,
        stdin,
    )?;
    let r = connect(&args.connection)
        .await?
        .introspect(request)
        .await
        .map_err(status)?
        .into_inner();
    let value = if r.active {
        json!({
            "active": true, "scope": r.scope, "client_id": r.client_id, "sub": r.sub,
            "token_type": r.token_type, "exp": r.exp, "iat": r.iat, "iss": r.iss, "jti": r.jti,
            "aud": r.aud,
        })
    } else {
        json!({ "active": false })
    };
    print(args.connection.json, &value)
}

pub(super) async fn revoke(args: RevokeArgs) -> anyhow::Result<()> {
    let public_id = if args.client.client_secret.is_some() {
        String::new()
    } else {
        args.client.client_id.clone()
    };
    let stdin = &mut false;
    let request = client_request(
        RevokeRequest {
            token: credential(&args.token, "--token", stdin)?.to_string(),
            token_type_hint: args.token_type_hint,
            client_id: public_id,
        },
        &args.client,
        stdin,
    )?;
    connect(&args.connection)
        .await?
        .revoke(request)
        .await
        .map_err(status)?;
    // RFC 7009 §2.2: the same answer for a revoked, unknown, invalid or already revoked token.
    print(
        args.connection.json,
        &json!({
            "revocation": "accepted",
            "rfc7009": "the same answer for a token revoked now, one already revoked, and an \
                        unknown or invalid one; a valid token of this client is revoked now",
        }),
    )
}

pub(super) async fn health(args: Connection) -> anyhow::Result<()> {
    let mut client = HealthClient::new(channel(&args).await?);
    let mut answers = serde_json::Map::new();
    for service in ["", "tessera.v1.TokenService"] {
        let r = client
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .map_err(status)?
            .into_inner();
        let name = if service.is_empty() {
            "(server)"
        } else {
            service
        };
        answers.insert(name.to_owned(), json!(r.status().as_str_name()));
    }
    print(args.json, &serde_json::Value::Object(answers))
}

/// A fresh PKCE pair ([`CodeVerifier::generate`]) and its S256 challenge.
pub(super) fn new_pkce() -> anyhow::Result<(Zeroizing<String>, String)> {
    let rng = crate::rng::SharedRng::from_os().map_err(|e| anyhow::anyhow!("no entropy: {e}"))?;
    let verifier = rng.with(CodeVerifier::generate);
    let challenge = CodeChallenge::s256(&verifier)
        .encode(&mut [0u8; CHALLENGE_TEXT_LEN])
        .to_owned();
    Ok((Zeroizing::new(verifier.expose().to_owned()), challenge))
}

pub(super) fn pkce(args: &Output) -> anyhow::Result<()> {
    let (verifier, challenge) = new_pkce()?;
    print(
        args.json,
        &json!({
            "code_verifier": verifier.as_str(),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }),
    )
}
