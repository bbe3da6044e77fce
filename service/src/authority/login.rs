//! The authorization endpoint (RFC 6749 §4.1.1, RFC 7636 §4.3) and the login hand-off: a
//! checked request travels to the operator's login app inside a signed [`LoginChallenge`]
//! (nothing is stored), and the app's accept or reject becomes the redirect back to the client
//! with `code` or `error`, `state` and `iss` (§4.1.2, §4.1.2.1, RFC 9207).

use tessera_core::{
    Audience, ChallengeMethod, ClientId, CodeChallenge, Grant, LoginChallenge, LoginClaims,
    LoginRequest, MAX_LOGIN_LIFETIME, Scope, State, Subject,
};

use super::{Authority, Error, GrantType};
use crate::store::Store;

/// An authorization request's parameters, as the transport read them (RFC 6749 §4.1.1).
#[derive(Debug, Default)]
pub struct AuthorizationRequest<'a> {
    /// `response_type`: `code`.
    pub response_type: &'a str,
    /// `client_id`.
    pub client_id: &'a str,
    /// `redirect_uri`: one the client registered.
    pub redirect_uri: &'a str,
    /// `scope`; empty asks for the client's whole registered scope (RFC 6749 §3.3).
    pub scope: &'a str,
    /// `state`, returned as it came.
    pub state: &'a str,
    /// `code_challenge` (RFC 7636 §4.3): required.
    pub code_challenge: &'a str,
    /// `code_challenge_method`: `S256`.
    pub code_challenge_method: &'a str,
    /// `resource` values (RFC 8707): client ids of the resource servers the tokens are for.
    pub resource: Vec<&'a str>,
}

/// Why an authorization request did not go to the login app.
#[derive(Debug)]
pub enum Refused {
    /// The client or its redirect URI is unknown: the user agent must not be redirected
    /// (RFC 6749 §4.1.2.1); the endpoint shows the error itself.
    NoRedirect(Error),
    /// The error goes back to the client: the user agent is redirected to `to`.
    Redirect {
        /// The client's redirect URI with `error`, `error_description`, `state` and `iss`.
        to: String,
        /// What was wrong.
        error: Error,
    },
}

/// The error codes a login app may reject a request with (RFC 6749 §4.1.2.1).
pub const REJECT_ERRORS: [&str; 7] = [
    "access_denied",
    "invalid_request",
    "unauthorized_client",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
];

/// The authorization request a login challenge carries, for the login app's consent screen.
#[derive(Debug)]
pub struct PendingLogin {
    /// The request.
    pub claims: LoginClaims,
    /// The client's registered name.
    pub client_name: String,
}

/// `base` with `params` added to its query (RFC 6749 §4.1.2: keeping any query it has).
fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = String::from(base);
    url.push(if base.contains('?') { '&' } else { '?' });
    let start = url.len();
    let mut query = form_urlencoded::Serializer::for_suffix(url, start);
    for (name, value) in params {
        query.append_pair(name, value);
    }
    query.finish()
}

/// RFC 6749 §5.2: `error_description` is `%x20-21 / %x23-5B / %x5D-7E`.
fn is_description(text: &str) -> bool {
    text.bytes()
        .all(|c| matches!(c, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

impl<S: Store> Authority<S> {
    /// The authorization endpoint: checks the request and answers the login app's URL with a
    /// `login_challenge` carrying it.
    ///
    /// # Errors
    /// [`Refused::NoRedirect`] for a missing or unknown client or redirect URI;
    /// [`Refused::Redirect`] for everything else: `unsupported_response_type`,
    /// `invalid_request` (PKCE missing or not `S256`, a bad `state` or `resource`),
    /// `invalid_scope`, `server_error` (no login app configured, storage).
    pub async fn authorize(&self, request: AuthorizationRequest<'_>) -> Result<String, Refused> {
        let no_redirect = Refused::NoRedirect;
        if request.client_id.is_empty() {
            return Err(no_redirect(Error::MissingField("client_id")));
        }
        let client_id = ClientId::parse(request.client_id)
            .map_err(|_| no_redirect(Error::InvalidField("client_id")))?;
        let client = self
            .store
            .client(client_id)
            .await
            .map_err(|e| no_redirect(e.into()))?
            .ok_or(no_redirect(Error::UnknownClient))?;
        if request.redirect_uri.is_empty() {
            return Err(no_redirect(Error::MissingField("redirect_uri")));
        }
        if !client.has_redirect_uri(request.redirect_uri) {
            return Err(no_redirect(Error::UnregisteredRedirectUri));
        }
        // From here on the redirect URI is the client's own: errors go back to it.
        let state = State::parse(request.state).ok();
        let refuse = |error: Error| {
            let to = self.error_redirect(
                request.redirect_uri,
                error.kind().as_str(),
                &error.detail(),
                state.as_ref().map_or("", State::as_str),
            );
            Refused::Redirect { to, error }
        };
        if state.is_none() {
            return Err(refuse(Error::InvalidField("state")));
        }
        let state = state.clone().unwrap_or_else(State::empty);
        match request.response_type {
            "code" => {}
            "" => return Err(refuse(Error::MissingField("response_type"))),
            _ => return Err(refuse(Error::UnsupportedResponseType)),
        }
        if request.code_challenge.is_empty() {
            return Err(refuse(Error::MissingField("code_challenge")));
        }
        ChallengeMethod::parse(request.code_challenge_method).map_err(|e| refuse(e.into()))?;
        let code_challenge =
            CodeChallenge::parse(request.code_challenge).map_err(|e| refuse(e.into()))?;
        let scope = if request.scope.is_empty() {
            client.scope.clone()
        } else {
            let asked = Scope::parse(request.scope).map_err(|e| refuse(e.into()))?;
            asked
                .check_within(&client.scope)
                .map_err(|e| refuse(e.into()))?;
            asked
        };
        let audience = self
            .audience(request.resource.iter().copied())
            .await
            .map_err(&refuse)?;
        let Some(login_url) = &self.config.login_url else {
            return Err(refuse(Error::NoLoginApp));
        };
        let login = LoginRequest {
            client_id,
            redirect_uri: request.redirect_uri,
            scope,
            audience,
            code_challenge,
            state,
        };
        let keyring = self.keyring();
        let challenge = self
            .rng
            .with(|rng| {
                LoginChallenge::mint(
                    keyring.login_challenges(),
                    &login,
                    MAX_LOGIN_LIFETIME,
                    self.now(),
                    rng,
                )
            })
            .map_err(|e| refuse(e.into()))?;
        crate::meter::token_issued("login_challenge", GrantType::AuthorizationCode.as_str());
        Ok(with_query(
            login_url,
            &[("login_challenge", challenge.expose())],
        ))
    }

    /// Verifies a login challenge presented by the login app.
    fn login_claims(&self, challenge: &str) -> Result<LoginClaims, Error> {
        if challenge.is_empty() {
            return Err(Error::MissingField("login_challenge"));
        }
        LoginChallenge::verify(self.keyring().login_challenges(), challenge, self.now())
            .inspect_err(|e| tracing::debug!(error = ?e, "login challenge does not verify"))
            .map_err(|_| Error::InvalidLoginChallenge)
    }

    /// The request a login challenge carries, with its client's name (operator only; the
    /// caller checked).
    ///
    /// # Errors
    /// `invalid_request` for a bad or expired challenge, or a client deleted since.
    pub async fn login_request(&self, challenge: &str) -> Result<PendingLogin, Error> {
        let claims = self.login_claims(challenge)?;
        let client = self
            .store
            .client(*claims.client_id())
            .await?
            .ok_or(Error::UnknownClient)?;
        Ok(PendingLogin {
            claims,
            client_name: client.name.clone(),
        })
    }

    /// The login app accepted: issues the code for `subject` with `scope` (empty: the
    /// requested one; else within it) and `audience` (empty: the request's `resource` values)
    /// and answers the client's redirect URI with `code`, `state` and `iss` (operator only).
    ///
    /// # Errors
    /// `invalid_request` for a bad or expired challenge, a bad subject, an unknown audience, or
    /// a client or redirect URI removed since; `invalid_scope` beyond the requested scope.
    pub async fn accept_login(
        &self,
        challenge: &str,
        subject: &str,
        scope: &str,
        audience: &[String],
    ) -> Result<String, Error> {
        let claims = self.login_claims(challenge)?;
        let client = self
            .store
            .client(*claims.client_id())
            .await?
            .ok_or(Error::UnknownClient)?;
        // The client may have changed since the request: it must still allow all of it.
        if !client.has_redirect_uri(claims.redirect_uri()) {
            return Err(Error::UnregisteredRedirectUri);
        }
        let scope = if scope.is_empty() {
            claims.scope().clone()
        } else {
            let granted = Scope::parse(scope)?;
            granted.check_within(claims.scope())?;
            granted
        };
        scope.check_within(&client.scope)?;
        let audience: Audience = if audience.is_empty() {
            // The request's own resource values, still registered clients.
            let named: Vec<String> = claims.audience().iter().map(ToString::to_string).collect();
            self.audience(named.iter().map(String::as_str)).await?
        } else {
            self.audience(audience.iter().map(String::as_str)).await?
        };
        let grant = Grant {
            client_id: client.id,
            subject: Subject::parse(subject)?,
            scope,
            audience,
        };
        let (code, _) = self.mint_code(&grant, claims.redirect_uri(), claims.code_challenge())?;
        let mut params = vec![("code", code.expose())];
        if !claims.state().is_empty() {
            params.push(("state", claims.state()));
        }
        params.push(("iss", &self.config.issuer));
        Ok(with_query(claims.redirect_uri(), &params))
    }

    /// The login app rejected: answers the client's redirect URI with `error` (empty:
    /// `access_denied`), `error_description`, `state` and `iss` (operator only).
    ///
    /// # Errors
    /// `invalid_request` for a bad or expired challenge, an error code RFC 6749 §4.1.2.1 does
    /// not list, or a description with characters §5.2 does not allow.
    pub fn reject_login(
        &self,
        challenge: &str,
        error: &str,
        description: &str,
    ) -> Result<String, Error> {
        let claims = self.login_claims(challenge)?;
        let error = if error.is_empty() {
            "access_denied"
        } else {
            error
        };
        if !REJECT_ERRORS.contains(&error) {
            return Err(Error::InvalidField("error"));
        }
        if !is_description(description) {
            return Err(Error::InvalidField("error_description"));
        }
        Ok(self.error_redirect(claims.redirect_uri(), error, description, claims.state()))
    }

    /// The client's redirect URI with an error (RFC 6749 §4.1.2.1, RFC 9207).
    fn error_redirect(
        &self,
        redirect_uri: &str,
        error: &str,
        description: &str,
        state: &str,
    ) -> String {
        let mut params = vec![("error", error)];
        if !description.is_empty() {
            params.push(("error_description", description));
        }
        if !state.is_empty() {
            params.push(("state", state));
        }
        params.push(("iss", &self.config.issuer));
        with_query(redirect_uri, &params)
    }
}
