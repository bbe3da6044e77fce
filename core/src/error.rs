//! The one error type of the core, and the OAuth error each variant maps to (RFC 6749 §5.2).

use core::fmt;

/// Everything that can go wrong in `tessera-core`.
///
/// `Display` prints fixed text: no variant carries input, so an error can be logged without leaking
/// a token, a secret or a verifier. Verification failures are deliberately coarse towards callers
/// (see [`ErrorKind`]); the variant is for the server's own debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A token's text has the wrong length, characters or encoding.
    MalformedToken,
    /// A token starts with the prefix of another kind of token.
    WrongTokenKind,
    /// A token's tag does not match: forged, altered or minted under another key.
    BadSignature,
    /// A token names a key id the key set does not hold.
    UnknownKey,
    /// A token's version byte is not one this build understands.
    UnsupportedVersion,
    /// `now` is at or past the token's expiry.
    Expired,
    /// `now` is before the token's issue time.
    NotYetValid,
    /// A lifetime is zero, too long for its kind, or overflows the clock.
    InvalidLifetime,
    /// A scope string breaks RFC 6749 §3.3 syntax, repeats a token or exceeds the bounds.
    InvalidScope,
    /// A requested scope is not within the allowed scope.
    ScopeNotAllowed,
    /// A subject is empty, too long or contains control characters.
    InvalidSubject,
    /// A client id is not 32 lowercase hexadecimal characters.
    InvalidClientId,
    /// A grant id is not 32 lowercase hexadecimal characters.
    InvalidGrantId,
    /// A token id is not 32 lowercase hexadecimal characters.
    InvalidTokenId,
    /// An audience list is longer than [`MAX_AUDIENCE`](crate::MAX_AUDIENCE).
    TooManyAudiences,
    /// A redirect URI breaks the registration rules, or differs from the one a code was issued to.
    InvalidRedirectUri,
    /// A code or token was issued to another client.
    ClientMismatch,
    /// A PKCE `code_verifier` is not 43 to 128 unreserved characters (RFC 7636 §4.1).
    InvalidCodeVerifier,
    /// A PKCE `code_challenge` is not 43 base64url characters (RFC 7636 §4.2).
    InvalidCodeChallenge,
    /// The `code_challenge_method` is `plain` or unknown; only `S256` is accepted.
    UnsupportedChallengeMethod,
    /// The `code_verifier` does not hash to the code's challenge.
    PkceMismatch,
    /// A client secret does not have the `tsr_cs_` form or its checksum is wrong.
    MalformedSecret,
    /// A client secret does not match the stored verifier.
    SecretMismatch,
    /// A stored secret verifier does not have the expected length.
    MalformedVerifier,
    /// A key set already holds this key id.
    DuplicateKey,
    /// A key set is full.
    TooManyKeys,
    /// A key set has no active key, or a key blob has no key.
    NoActiveKey,
    /// A key or key set is for another purpose than the one asked for (a code key set given to
    /// mint access tokens, a refresh-token key inserted into an access-token set, ...).
    WrongKeyPurpose,
    /// An output did not fit its fixed buffer. The buffers are sized for the largest valid
    /// output, so this means a bound in the core is wrong: nothing partial is ever returned.
    BufferTooSmall,
    /// A verified access token names neither this resource server as its client nor in its
    /// audience.
    WrongAudience,
    /// A gateway's key blob (FORMAT.md §7) is truncated, damaged or of an unknown version.
    MalformedProvisioning,
    /// A client `state` is longer than [`MAX_STATE_LEN`](crate::MAX_STATE_LEN) or has a
    /// character outside `%x20-7E` (RFC 6749 Appendix A.5).
    InvalidState,
}

/// The OAuth 2.0 error an [`Error`] maps to: RFC 6749 §5.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `invalid_request`: a parameter is missing, repeated or malformed.
    InvalidRequest,
    /// `invalid_client`: client authentication failed.
    InvalidClient,
    /// `invalid_grant`: the code, refresh token or PKCE verifier is invalid, expired or not for this client.
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the grant type is not supported.
    UnsupportedGrantType,
    /// `invalid_scope`: the scope is malformed or exceeds what was granted.
    InvalidScope,
    /// `server_error`: the server is misconfigured (e.g. no signing key).
    ServerError,
}

impl ErrorKind {
    /// The error code as it appears on the wire (`"invalid_grant"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The OAuth error this maps to.
    ///
    /// Every way a code or refresh token can fail to verify maps to `invalid_grant`, so a caller
    /// cannot tell a forged token from an expired one (RFC 6749 §5.2).
    pub const fn kind(self) -> ErrorKind {
        match self {
            Self::MalformedToken
            | Self::WrongTokenKind
            | Self::BadSignature
            | Self::UnknownKey
            | Self::UnsupportedVersion
            | Self::Expired
            | Self::NotYetValid
            | Self::WrongAudience
            | Self::ClientMismatch
            | Self::PkceMismatch => ErrorKind::InvalidGrant,
            Self::InvalidScope | Self::ScopeNotAllowed => ErrorKind::InvalidScope,
            Self::InvalidLifetime
            | Self::InvalidSubject
            | Self::InvalidClientId
            | Self::InvalidGrantId
            | Self::InvalidTokenId
            | Self::TooManyAudiences
            | Self::InvalidRedirectUri
            | Self::InvalidCodeVerifier
            | Self::InvalidCodeChallenge
            | Self::UnsupportedChallengeMethod
            | Self::InvalidState => ErrorKind::InvalidRequest,
            Self::MalformedSecret | Self::SecretMismatch => ErrorKind::InvalidClient,
            Self::MalformedVerifier
            | Self::DuplicateKey
            | Self::TooManyKeys
            | Self::NoActiveKey
            | Self::WrongKeyPurpose
            | Self::BufferTooSmall
            | Self::MalformedProvisioning => ErrorKind::ServerError,
        }
    }

    /// True for the errors that mean "this token is not valid" (as opposed to a bad request).
    ///
    /// Introspection (RFC 7662 §2.2) answers `active: false` for exactly these.
    pub const fn is_invalid_token(self) -> bool {
        matches!(
            self,
            Self::MalformedToken
                | Self::WrongTokenKind
                | Self::BadSignature
                | Self::UnknownKey
                | Self::UnsupportedVersion
                | Self::Expired
                | Self::NotYetValid
                | Self::WrongAudience
        )
    }

    const fn message(self) -> &'static str {
        match self {
            Self::MalformedToken => "token is malformed",
            Self::WrongTokenKind => "token is of another kind",
            Self::BadSignature => "token signature does not verify",
            Self::UnknownKey => "token key id is not known",
            Self::UnsupportedVersion => "token version is not supported",
            Self::Expired => "token has expired",
            Self::NotYetValid => "token is not yet valid",
            Self::InvalidLifetime => "lifetime is zero, too long or overflows",
            Self::InvalidScope => "scope is malformed",
            Self::ScopeNotAllowed => "scope exceeds the allowed scope",
            Self::InvalidSubject => "subject is empty, too long or has control characters",
            Self::InvalidClientId => "client id is malformed",
            Self::InvalidGrantId => "grant id is malformed",
            Self::InvalidTokenId => "token id is malformed",
            Self::TooManyAudiences => "too many audiences",
            Self::InvalidRedirectUri => "redirect uri is invalid or does not match",
            Self::ClientMismatch => "grant was issued to another client",
            Self::InvalidCodeVerifier => "code verifier is malformed",
            Self::InvalidCodeChallenge => "code challenge is malformed",
            Self::UnsupportedChallengeMethod => "code challenge method must be S256",
            Self::PkceMismatch => "code verifier does not match the challenge",
            Self::MalformedSecret => "client secret is malformed",
            Self::SecretMismatch => "client secret does not match",
            Self::MalformedVerifier => "stored secret verifier is malformed",
            Self::DuplicateKey => "key id is already in the key set",
            Self::TooManyKeys => "key set is full",
            Self::NoActiveKey => "no active key for this purpose",
            Self::WrongKeyPurpose => "key is for another purpose",
            Self::BufferTooSmall => "output does not fit its buffer",
            Self::WrongAudience => "token is not meant for this resource server",
            Self::MalformedProvisioning => "gateway key blob is malformed or damaged",
            Self::InvalidState => "state is too long or has characters outside %x20-7E",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for Error {}
