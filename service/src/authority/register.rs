//! Client registration (RFC 7591 §3.2.1; operator only).

use tessera_core::{
    ClientId, ClientSecret, Scope, SecretText, SecretVerifier, validate_redirect_uri,
};

use super::{Authority, Error};
use crate::store::{ClientRecord, Store};

/// Longest client name accepted, in bytes.
pub const MAX_CLIENT_NAME_LEN: usize = 128;
/// Most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 16;

/// A new client's registration (RFC 7591 §3.2.1).
#[derive(Debug)]
pub struct Registration {
    /// Its id.
    pub client_id: ClientId,
    /// Its secret, shown once; `None` for a public client.
    pub secret: Option<SecretText<{ tessera_core::SECRET_TEXT_LEN }>>,
    /// Registration time, unix seconds.
    pub issued_at: u64,
}

/// Checks a client's metadata as registration and every update do: a name of at most
/// [`MAX_CLIENT_NAME_LEN`] bytes without control characters, 1 to [`MAX_REDIRECT_URIS`]
/// redirect URIs a client may register, and a well-formed scope, which it returns.
///
/// # Errors
/// `invalid_request` for a bad name or redirect URI, `invalid_scope` for a bad scope.
pub(super) fn check_metadata(
    name: &str,
    redirect_uris: &[String],
    scope: &str,
) -> Result<Scope, Error> {
    if name.is_empty() {
        return Err(Error::MissingField("client_name"));
    }
    if name.len() > MAX_CLIENT_NAME_LEN {
        return Err(Error::ClientNameTooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(Error::ClientNameControl);
    }
    if redirect_uris.is_empty() {
        return Err(Error::MissingField("redirect_uris"));
    }
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(Error::TooManyRedirectUris);
    }
    for uri in redirect_uris {
        validate_redirect_uri(uri).map_err(|_| Error::InvalidRedirectUri)?;
    }
    Ok(Scope::parse(scope)?)
}

impl<S: Store> Authority<S> {
    /// Registers a client (operator only; the caller checked).
    ///
    /// # Errors
    /// `invalid_request` for a bad name or redirect URI, `invalid_scope` for a bad scope.
    pub async fn register(
        &self,
        name: &str,
        redirect_uris: Vec<String>,
        scope: &str,
        public: bool,
    ) -> Result<Registration, Error> {
        let scope = check_metadata(name, &redirect_uris, scope)?;
        let (client_id, secret) = self.rng.with(|rng| {
            let id = ClientId::generate(rng);
            let secret = (!public).then(|| ClientSecret::generate(rng));
            (id, secret)
        });
        let keyring = self.keyring();
        let verifier = secret
            .as_ref()
            .map(|s| SecretVerifier::new(keyring.client_secrets(), &client_id, s))
            .transpose()?;
        let issued_at = self.now();
        self.store
            .insert_client(ClientRecord {
                id: client_id,
                name: name.to_owned(),
                redirect_uris,
                scope,
                verifier,
                issued_at,
                previous: None,
            })
            .await?;
        tracing::info!(client_id = %client_id, public, "registered a client");
        Ok(Registration {
            client_id,
            secret: secret.map(|s| s.encode()),
            issued_at,
        })
    }
}
