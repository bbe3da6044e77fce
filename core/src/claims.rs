//! The claims every grant carries: who it is for (client, subject), what it allows (scope,
//! audience), the redirect URI a code is bound to, and the client's `state` a login challenge
//! carries back to it (RFC 6749 §4.1.1).

use core::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{ClientId, Error, Scope};

/// Longest subject, in bytes.
pub const MAX_SUBJECT_LEN: usize = 64;
/// Most audience entries in one token.
pub const MAX_AUDIENCE: usize = 4;
/// Longest redirect URI accepted, in bytes.
pub const MAX_REDIRECT_URI_LEN: usize = 512;
/// Longest client `state` accepted, in bytes.
pub const MAX_STATE_LEN: usize = 512;

/// The resource owner a grant is for (`sub`, RFC 7662 §2.2): 1 to 64 bytes of UTF-8 without
/// control characters, chosen by the login front end.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Subject(heapless::String<MAX_SUBJECT_LEN>);

impl Subject {
    /// Validates a subject.
    ///
    /// # Errors
    /// [`Error::InvalidSubject`] if empty, longer than [`MAX_SUBJECT_LEN`] or containing a
    /// control character.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.is_empty() || text.chars().any(char::is_control) {
            return Err(Error::InvalidSubject);
        }
        let mut s = heapless::String::new();
        s.push_str(text).map_err(|_| Error::InvalidSubject)?;
        Ok(Self(s))
    }

    /// A subject read from a verified token body: its syntax was checked when it was minted.
    #[inline]
    pub(crate) fn from_verified(text: &str) -> Option<Self> {
        let mut s = heapless::String::new();
        s.push_str(text).ok()?;
        (!text.is_empty()).then_some(Self(s))
    }

    /// The subject text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject({:?})", self.as_str())
    }
}

/// The client's `state` (RFC 6749 §4.1.1): opaque to the server, returned to the client with the
/// code or the error. 0 to [`MAX_STATE_LEN`] VSCHAR characters, `%x20-7E` (RFC 6749 Appendix
/// A.5); empty means the client sent none. Not a secret from the login app, so `Debug` shows it.
///
/// ```
/// use tessera_core::{Error, MAX_STATE_LEN, State};
/// assert_eq!(State::parse("xyz 123/~")?.as_str(), "xyz 123/~");
/// assert!(State::parse("")?.is_empty());
/// assert_eq!(State::parse("a\nb"), Err(Error::InvalidState));
/// assert_eq!(State::parse(&"s".repeat(MAX_STATE_LEN + 1)), Err(Error::InvalidState));
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct State(heapless::String<MAX_STATE_LEN>);

impl State {
    /// No state.
    pub const fn empty() -> Self {
        Self(heapless::String::new())
    }

    /// Validates a state.
    ///
    /// # Errors
    /// [`Error::InvalidState`] for a character outside `%x20-7E` or more than
    /// [`MAX_STATE_LEN`] bytes.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if !text.bytes().all(|c| matches!(c, 0x20..=0x7e)) {
            return Err(Error::InvalidState);
        }
        let mut s = heapless::String::new();
        s.push_str(text).map_err(|_| Error::InvalidState)?;
        Ok(Self(s))
    }

    /// A state read from a verified token body: its syntax was checked when it was minted.
    #[inline]
    pub(crate) fn from_verified(text: &str) -> Option<Self> {
        let mut s = heapless::String::new();
        s.push_str(text).ok()?;
        Some(Self(s))
    }

    /// The state text, as the client sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True if the client sent no state.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "State({:?})", self.as_str())
    }
}

/// The clients a token is also meant for (`aud`): up to [`MAX_AUDIENCE`] resource servers named
/// at authorization, in order.
///
/// ```
/// use tessera_core::{Audience, ClientId, Error, MAX_AUDIENCE};
/// let api = ClientId::parse("ffeeddccbbaa99887766554433221100")?;
/// let mut audience = Audience::new();
/// audience.push(api)?;
/// assert!(audience.contains(&api) && audience.len() == 1);
/// assert_eq!(Audience::from_slice(&[api; MAX_AUDIENCE + 1]), Err(Error::TooManyAudiences));
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Audience(heapless::Vec<ClientId, MAX_AUDIENCE>);

impl Audience {
    /// No audience: the token is for its client alone.
    pub const fn new() -> Self {
        Self(heapless::Vec::new())
    }

    /// An audience of `clients`, in order.
    ///
    /// # Errors
    /// [`Error::TooManyAudiences`] for more than [`MAX_AUDIENCE`].
    pub fn from_slice(clients: &[ClientId]) -> Result<Self, Error> {
        heapless::Vec::from_slice(clients)
            .map(Self)
            .map_err(|_| Error::TooManyAudiences)
    }

    /// Adds `client` at the end.
    ///
    /// # Errors
    /// [`Error::TooManyAudiences`] if it already holds [`MAX_AUDIENCE`]; it is left unchanged.
    pub fn push(&mut self, client: ClientId) -> Result<(), Error> {
        self.0.push(client).map_err(|_| Error::TooManyAudiences)
    }

    /// True if `client` is in the audience.
    pub fn contains(&self, client: &ClientId) -> bool {
        self.0.contains(client)
    }

    /// The clients, in order.
    pub fn iter(&self) -> core::slice::Iter<'_, ClientId> {
        self.0.iter()
    }

    /// The clients as a slice, in order.
    pub fn as_slice(&self) -> &[ClientId] {
        &self.0
    }

    /// How many clients it names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for no audience.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Audience {
    type Item = &'a ClientId;
    type IntoIter = core::slice::Iter<'a, ClientId>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl TryFrom<&[ClientId]> for Audience {
    type Error = Error;

    fn try_from(clients: &[ClientId]) -> Result<Self, Error> {
        Self::from_slice(clients)
    }
}

/// What one authorization grant is: carried by its code and by every token issued from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The client the grant was issued to.
    pub client_id: ClientId,
    /// The resource owner who authorized it.
    pub subject: Subject,
    /// What it allows.
    pub scope: Scope,
    /// Other clients (resource servers) that may introspect its access tokens.
    pub audience: Audience,
}

impl Grant {
    /// True if `client` is the grant's client or in its audience (RFC 7662 §4: a resource server
    /// learns only about tokens meant for it).
    pub fn is_for(&self, client: &ClientId) -> bool {
        self.client_id == *client || self.audience.contains(client)
    }

    /// Checks that `client` is the client this grant was issued to.
    ///
    /// # Errors
    /// [`Error::ClientMismatch`] otherwise.
    pub fn check_client(&self, client: &ClientId) -> Result<(), Error> {
        if self.client_id == *client {
            Ok(())
        } else {
            Err(Error::ClientMismatch)
        }
    }
}

/// The SHA-256 of the exact redirect URI a code was issued for; the code is bound to it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RedirectUriDigest([u8; 32]);

impl RedirectUriDigest {
    /// Digests the URI's exact bytes (no normalisation: RFC 9700 §4.1.3 wants exact matching).
    pub fn of(uri: &str) -> Self {
        Self(Sha256::digest(uri.as_bytes()).into())
    }

    pub(crate) const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Checks that `uri` is the URI this digest was made from.
    ///
    /// # Errors
    /// [`Error::InvalidRedirectUri`] if it differs by even one byte.
    pub fn check(&self, uri: &str) -> Result<(), Error> {
        if bool::from(Self::of(uri).0.ct_eq(&self.0)) {
            Ok(())
        } else {
            Err(Error::InvalidRedirectUri)
        }
    }
}

impl fmt::Debug for RedirectUriDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedirectUriDigest(..)")
    }
}
