//! Issuing authorization codes (RFC 6749 §4.1.2, RFC 7636 §4.4) for the login front end
//! (operator only).

use tessera_core::{
    Audience, AuthorizationCode, ChallengeMethod, ClientId, CodeChallenge, Grant, Scope, Subject,
};

use super::{Authority, Error, GrantType};
use crate::store::Store;

/// What the login front end asks a code for.
#[derive(Debug)]
pub struct CodeRequest<'a> {
    /// `client_id`.
    pub client_id: &'a str,
    /// `redirect_uri`, one the client registered.
    pub redirect_uri: &'a str,
    /// `scope`, within the client's.
    pub scope: &'a str,
    /// The signed-in user.
    pub subject: &'a str,
    /// `code_challenge`.
    pub code_challenge: &'a str,
    /// `code_challenge_method`, `S256`.
    pub code_challenge_method: &'a str,
    /// Client ids of the resource servers that may introspect.
    pub audience: &'a [String],
}

impl<S: Store> Authority<S> {
    /// Issues an authorization code (operator only; the caller checked), with its lifetime.
    ///
    /// # Errors
    /// `invalid_request` for an unknown client, an unregistered redirect URI, a bad subject,
    /// challenge or method, or an audience that is not a registered client; `invalid_scope`
    /// beyond the client's scope.
    pub async fn issue_code(
        &self,
        request: CodeRequest<'_>,
    ) -> Result<(AuthorizationCode, u32), Error> {
        let client_id = ClientId::parse(request.client_id)?;
        let client = self
            .store
            .client(client_id)
            .await?
            .ok_or(Error::UnknownClient)?;
        if !client.has_redirect_uri(request.redirect_uri) {
            return Err(Error::UnregisteredRedirectUri);
        }
        let scope = Scope::parse(request.scope)?;
        scope.check_within(&client.scope)?;
        ChallengeMethod::parse(request.code_challenge_method)?;
        let challenge = CodeChallenge::parse(request.code_challenge)?;
        let audience = self
            .audience(request.audience.iter().map(String::as_str))
            .await?;
        let grant = Grant {
            client_id,
            subject: Subject::parse(request.subject)?,
            scope,
            audience,
        };
        self.mint_code(&grant, request.redirect_uri, &challenge)
    }

    /// Mints the code of `grant` for `redirect_uri` and `challenge`, all checked, with its
    /// lifetime: the one place codes are made (`IssueCode` and `AcceptLogin`).
    pub(super) fn mint_code(
        &self,
        grant: &Grant,
        redirect_uri: &str,
        challenge: &CodeChallenge,
    ) -> Result<(AuthorizationCode, u32), Error> {
        let lifetime = self.config.code_lifetime;
        let keyring = self.keyring();
        let code = self.rng.with(|rng| {
            AuthorizationCode::mint(
                keyring.codes(),
                grant,
                redirect_uri,
                challenge,
                lifetime,
                self.now(),
                rng,
            )
        })?;
        crate::meter::token_issued("code", GrantType::AuthorizationCode.as_str());
        Ok((code, lifetime))
    }
}

impl<S: Store> Authority<S> {
    /// The audience named by `ids` (client ids of resource servers), each a registered client.
    ///
    /// # Errors
    /// `invalid_request` for a malformed id, too many, or one that is not registered (only a
    /// registered client can introspect, so an unknown audience is a typo, not a grant).
    pub(super) async fn audience(
        &self,
        ids: impl IntoIterator<Item = &str>,
    ) -> Result<Audience, Error> {
        let mut audience = Audience::new();
        for id in ids {
            audience
                .push(ClientId::parse(id)?)
                .map_err(|_| tessera_core::Error::TooManyAudiences)?;
        }
        for id in &audience {
            if self.store.client(*id).await?.is_none() {
                return Err(Error::UnknownAudience);
            }
        }
        Ok(audience)
    }
}
