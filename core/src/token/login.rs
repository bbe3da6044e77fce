//! Login challenges (FORMAT.md §3.4): the whole authorization request (RFC 6749 §4.1.1, RFC 7636
//! §4.3, RFC 8707 §2), signed and handed to the operator's login app, so that the server stores
//! nothing between the browser's arrival and the login app's answer.
//!
//! Signed, not encrypted: nothing in the request is secret from the login app, which reads it
//! back through the server. It carries the redirect URI and `state` as text, so its body has its
//! own capacity ([`BODY_CAP`]) instead of enlarging the grant-carrying kinds' one.

use rand_core::CryptoRng;

use super::wire::Writer;
use super::{Kind, Times, VALIDITY_LEN, Validity, open, padded, seal, token_text};
use crate::Error;
use crate::claims::{Audience, MAX_AUDIENCE, MAX_REDIRECT_URI_LEN, MAX_STATE_LEN, State};
use crate::id::{ClientId, ID_LEN, TokenId};
use crate::keyring::{KeyId, KeySet};
use crate::pkce::{CHALLENGE_LEN, CodeChallenge};
use crate::redirect::validate_redirect_uri;
use crate::scope::{MAX_SCOPE_LEN, Scope};

/// Longest lifetime of a login challenge: 10 minutes, as long as an authorization code may
/// live (RFC 6749 §4.1.2), for the user to sign in.
pub const MAX_LOGIN_LIFETIME: u32 = 600;

/// request id (16) ‖ client id (16) ‖ code challenge (32).
const FIXED_LEN: usize = 2 * ID_LEN + CHALLENGE_LEN;
/// Length fields: redirect URI (2), scope (1), audience count (1), state (2).
const LENGTHS_LEN: usize = 2 + 1 + 1 + 2;
/// Shortest claims: a one-byte redirect URI, no scope, no audience, no state.
pub(super) const CLAIMS_MIN_LEN: usize = VALIDITY_LEN + FIXED_LEN + LENGTHS_LEN + 1;
/// Longest claims: every variable field at its cap.
pub(super) const CLAIMS_MAX_LEN: usize = VALIDITY_LEN
    + FIXED_LEN
    + LENGTHS_LEN
    + MAX_REDIRECT_URI_LEN
    + MAX_SCOPE_LEN
    + MAX_AUDIENCE * ID_LEN
    + MAX_STATE_LEN;
/// Largest padded body of a login challenge.
const BODY_CAP: usize = padded(super::HEADER_LEN + CLAIMS_MAX_LEN);
const _: () = {
    // The long fields' lengths fit their u16 (the short ones are checked in `Writer::grant`).
    assert!(MAX_REDIRECT_URI_LEN <= u16::MAX as usize && MAX_STATE_LEN <= u16::MAX as usize);
    // This kind alone pays for its size.
    assert!(BODY_CAP > super::BODY_CAP);
};

/// An authorization request the server has checked (client known, redirect URI registered,
/// scope allowed, PKCE `S256`), to be carried to the login app in a [`LoginChallenge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRequest<'a> {
    /// The client asking for authorization (`client_id`).
    pub client_id: ClientId,
    /// The redirect URI, exactly as the request named it (`redirect_uri`).
    pub redirect_uri: &'a str,
    /// The requested scope (`scope`).
    pub scope: Scope,
    /// The resource servers the tokens are also for (RFC 8707 `resource`, as client ids).
    pub audience: Audience,
    /// The PKCE `S256` challenge the code will be bound to (`code_challenge`).
    pub code_challenge: CodeChallenge,
    /// The client's `state`, returned with the code or the error.
    pub state: State,
}

token_text! {
    /// A minted login challenge, `tsr_lc_…`: the `login_challenge` parameter of the redirect to
    /// the login app.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    /// use tessera_core::*;
    /// let keyring = Keyring::new(&[MasterKey::generate(KeyId::new(1), &mut rng)], KeyId::new(1))?;
    /// let request = LoginRequest {
    ///     client_id: ClientId::generate(&mut rng),
    ///     redirect_uri: "https://app.example/cb",
    ///     scope: Scope::parse("photos.read")?,
    ///     audience: Audience::new(),
    ///     code_challenge: CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")?,
    ///     state: State::parse("af0ifjsldkj")?,
    /// };
    /// let now = 1_767_225_600;
    /// let challenge = LoginChallenge::mint(keyring.login_challenges(), &request, 600, now, &mut rng)?;
    ///
    /// // The login app presents it back, through GetLoginRequest or AcceptLogin.
    /// let claims = LoginChallenge::verify(keyring.login_challenges(), challenge.expose(), now + 30)?;
    /// assert_eq!(claims.request(), request);
    /// assert_eq!(
    ///     AuthorizationCode::verify(keyring.codes(), challenge.expose(), now).err(),
    ///     Some(Error::WrongTokenKind)
    /// );
    /// # Ok::<(), tessera_core::Error>(())
    /// ```
    LoginChallenge, Kind::LoginChallenge
}

impl LoginChallenge {
    /// Mints a challenge carrying `request`, valid from `now` for `lifetime` seconds, with a
    /// fresh request id.
    ///
    /// # Errors
    /// [`Error::InvalidLifetime`] for a lifetime of 0 or over [`MAX_LOGIN_LIFETIME`];
    /// [`Error::InvalidRedirectUri`] for a redirect URI that breaks the registration rules
    /// ([`validate_redirect_uri`](crate::validate_redirect_uri)); [`Error::WrongKeyPurpose`] if
    /// `keys` is not a login-challenge key set, [`Error::NoActiveKey`] if it has no active key.
    pub fn mint<R: CryptoRng + ?Sized>(
        keys: &KeySet,
        request: &LoginRequest<'_>,
        lifetime: u32,
        now: u64,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let validity = Validity::new(now, lifetime, MAX_LOGIN_LIFETIME)?;
        validate_redirect_uri(request.redirect_uri)?;
        let request_id = TokenId::generate(rng);
        seal(Kind::LoginChallenge, keys, |w: &mut Writer<BODY_CAP>| {
            validity.write(w)?;
            w.bytes(request_id.as_bytes())?;
            w.bytes(request.client_id.as_bytes())?;
            w.bytes(request.code_challenge.as_bytes())?;
            w.long(request.redirect_uri.as_bytes())?;
            w.short(request.scope.as_str().as_bytes())?;
            w.audience(&request.audience)?;
            w.long(request.state.as_str().as_bytes())
        })
        .map(Self)
    }

    /// Verifies a challenge presented at `now` and returns the request it carries.
    ///
    /// # Errors
    /// Any verification failure ([`Error::is_invalid_token`]): malformed, wrong kind, unknown
    /// key, bad signature, unsupported version, not yet valid, expired.
    pub fn verify(keys: &KeySet, text: &str, now: u64) -> Result<LoginClaims, Error> {
        let mut body = [0u8; BODY_CAP];
        let (key_id, mut r) = open(Kind::LoginChallenge, keys, text, &mut body)?;
        let times = Validity::read(&mut r, MAX_LOGIN_LIFETIME, now)?;
        let request_id = TokenId::from_bytes(r.array()?);
        let client_id = ClientId::from_bytes(r.array()?);
        let code_challenge = CodeChallenge::from_bytes(r.array()?);
        // As for a grant, only what memory safety needs is checked again after the MAC.
        let uri = r.long_str()?;
        let mut redirect_uri = heapless::String::new();
        redirect_uri
            .push_str(uri)
            .map_err(|_| Error::MalformedToken)?;
        if uri.is_empty() {
            return Err(Error::MalformedToken);
        }
        let scope = Scope::from_verified(r.short_str()?).ok_or(Error::MalformedToken)?;
        let audience = r.audience()?;
        let state = State::from_verified(r.long_str()?).ok_or(Error::MalformedToken)?;
        r.finish()?;
        Ok(LoginClaims {
            key_id,
            times,
            request_id,
            client_id,
            redirect_uri,
            scope,
            audience,
            code_challenge,
            state,
        })
    }
}

/// The verified claims of a login challenge: the authorization request it carries. Only
/// [`LoginChallenge::verify`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginClaims {
    key_id: KeyId,
    times: Times,
    request_id: TokenId,
    client_id: ClientId,
    redirect_uri: heapless::String<MAX_REDIRECT_URI_LEN>,
    scope: Scope,
    audience: Audience,
    code_challenge: CodeChallenge,
    state: State,
}

impl LoginClaims {
    /// The request, as it was minted.
    pub fn request(&self) -> LoginRequest<'_> {
        LoginRequest {
            client_id: self.client_id,
            redirect_uri: &self.redirect_uri,
            scope: self.scope.clone(),
            audience: self.audience.clone(),
            code_challenge: self.code_challenge,
            state: self.state.clone(),
        }
    }

    /// The client asking for authorization.
    pub const fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The redirect URI, exactly as the request named it.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The requested scope.
    pub const fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The requested audience (the RFC 8707 `resource` client ids).
    pub const fn audience(&self) -> &Audience {
        &self.audience
    }

    /// The PKCE challenge the code is to be bound to.
    pub const fn code_challenge(&self) -> &CodeChallenge {
        &self.code_challenge
    }

    /// The client's `state` (empty if it sent none).
    pub fn state(&self) -> &str {
        self.state.as_str()
    }

    /// This challenge's unique id: two challenges never share one.
    pub const fn request_id(&self) -> &TokenId {
        &self.request_id
    }

    /// Issue time, unix seconds.
    pub const fn issued_at(&self) -> u64 {
        self.times.issued_at
    }

    /// Expiry, unix seconds: the challenge is invalid from this second on.
    pub const fn expires_at(&self) -> u64 {
        self.times.expires_at
    }

    /// The key that signed it.
    pub const fn key_id(&self) -> KeyId {
        self.key_id
    }
}
