//! The domain's one error type and its one table: each variant's OAuth error (RFC 6749 §5.2)
//! and fixed description. Transports map [`ErrorKind`] to their own status at their edge
//! ([`grpc::status`](crate::grpc)).

use tessera_core::MAX_REDIRECT_URI_LEN;

use crate::store::StoreError;

/// Everything a request can fail with. Messages are fixed text: never a token or secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The core refused an input or a token.
    Core(tessera_core::Error),
    /// A required request field is empty (its wire name).
    MissingField(&'static str),
    /// A request field is malformed (its wire name).
    InvalidField(&'static str),
    /// A request field appears more than once (RFC 6749 §3.1: parameters must not repeat).
    RepeatedField(&'static str),
    /// The client named in a request is not registered.
    UnknownClient,
    /// The client an operator's request is about is not registered: not found, not malformed.
    NoSuchClient,
    /// A secret rotation for a public client, which has none.
    PublicClientSecret,
    /// A rotation's grace period past [`MAX_SECRET_GRACE`](super::MAX_SECRET_GRACE).
    GraceTooLong,
    /// A code or refresh token whose grant the client's registration no longer allows: its
    /// redirect URI is no longer registered, or its scope is no longer within the client's.
    GrantNoLongerAllowed,
    /// An audience of a code request names a client that is not registered.
    UnknownAudience,
    /// The redirect URI is not one the client registered.
    UnregisteredRedirectUri,
    /// A redirect URI given at registration is not one a client may register.
    InvalidRedirectUri,
    /// More redirect URIs than a client may register.
    TooManyRedirectUris,
    /// A client name longer than the limit.
    ClientNameTooLong,
    /// A client name with control characters.
    ClientNameControl,
    /// Introspection without a confidential client's credentials (public clients cannot).
    IntrospectionNeedsCredentials,
    /// `grant_type` is not one of [`GrantType`](super::GrantType).
    UnsupportedGrantType,
    /// `response_type` is not `code` (RFC 6749 §4.1.1).
    UnsupportedResponseType,
    /// The authorization endpoint has no login app to send the user to (`--login-url`).
    NoLoginApp,
    /// A login challenge that does not verify: forged, expired or from retired keys.
    InvalidLoginChallenge,
    /// No client credentials, or a confidential client without them.
    MissingCredentials,
    /// Client credentials that are malformed or wrong.
    BadCredentials,
    /// The operator bearer token is missing or wrong.
    BadOperatorToken,
    /// More than one credential in one request (RFC 6749 §2.3: one method per request).
    DuplicateCredentials,
    /// A wrong secret past the failed-auth limit of its client or its source address.
    Throttled,
    /// The token request's redirect URI is not the one the code was issued for.
    RedirectUriMismatch,
    /// The code was already redeemed; its grant is now revoked.
    CodeReplayed,
    /// The refresh token was already rotated; its whole family is now revoked.
    RefreshReused,
    /// The refresh token's family is revoked, expired or unknown.
    GrantRevoked,
    /// The token was issued to another client.
    NotTokenOwner,
    /// A public client asked for a grant only a confidential client may use
    /// (`client_credentials`, RFC 6749 §4.4).
    PublicClientGrant,
    /// The storage backend failed; nothing was acknowledged.
    Storage(StoreError),
}

/// What a failure means to the caller: the OAuth error (RFC 6749 §5.2) and, where one OAuth error
/// covers two cases a transport answers differently, which of them. Every edge maps this to its
/// status in one exhaustive `match`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `invalid_request`: a parameter is missing, repeated or malformed.
    InvalidRequest,
    /// `invalid_client`: client (or operator) authentication failed.
    InvalidClient,
    /// `invalid_client` as well, but the client must wait: a wrong secret past a failed-auth
    /// limit (the credentials may be right next time).
    Throttled,
    /// `invalid_grant`: the code, refresh token or PKCE verifier is invalid, expired, revoked
    /// or not for this client.
    InvalidGrant,
    /// `unauthorized_client`: the client may not do this (another client's token).
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `not_found`: the client an operator's request names is not registered (HTTP `404`,
    /// gRPC `NOT_FOUND`). Not an RFC 6749 error: only operator requests answer it.
    NotFound,
    /// `unsupported_response_type` (the authorization endpoint, RFC 6749 §4.1.2.1).
    UnsupportedResponseType,
    /// `invalid_scope`: the scope is malformed or exceeds what was granted.
    InvalidScope,
    /// `server_error`: the server is misconfigured (e.g. no signing key).
    ServerError,
    /// `server_error` as well, but transient: the storage backend is unavailable and nothing
    /// was acknowledged, so the request may be retried.
    Unavailable,
}

impl ErrorKind {
    /// The OAuth error code as it appears on the wire (`"invalid_grant"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient | Self::Throttled => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::NotFound => "not_found",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError | Self::Unavailable => "server_error",
        }
    }

    /// The kind of a core error.
    fn of_core(kind: tessera_core::ErrorKind) -> Self {
        match kind {
            tessera_core::ErrorKind::InvalidRequest => Self::InvalidRequest,
            tessera_core::ErrorKind::InvalidClient => Self::InvalidClient,
            tessera_core::ErrorKind::InvalidGrant => Self::InvalidGrant,
            tessera_core::ErrorKind::UnauthorizedClient => Self::UnauthorizedClient,
            tessera_core::ErrorKind::UnsupportedGrantType => Self::UnsupportedGrantType,
            tessera_core::ErrorKind::InvalidScope => Self::InvalidScope,
            tessera_core::ErrorKind::ServerError => Self::ServerError,
            // `tessera_core::ErrorKind` is `#[non_exhaustive]`, so another crate must have this
            // arm; a kind added to the core later is a server-side error until it is mapped here.
            _ => Self::ServerError,
        }
    }
}

impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<tessera_core::Error> for Error {
    fn from(e: tessera_core::Error) -> Self {
        Self::Core(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Storage(e)
    }
}

// The limits the descriptions below state.
const _: () = assert!(
    super::MAX_REDIRECT_URIS == 16
        && super::MAX_SECRET_GRACE == 7 * 24 * 3600
        && super::MAX_CLIENT_NAME_LEN == 128
        && MAX_REDIRECT_URI_LEN == 512,
    "update the descriptions in Error::parts"
);

impl Error {
    /// The OAuth error and its transport-relevant class.
    pub fn kind(&self) -> ErrorKind {
        self.parts().0
    }

    /// The fixed description (for [`MissingField`](Self::MissingField) and
    /// [`InvalidField`](Self::InvalidField), the field's name).
    pub fn description(&self) -> &'static str {
        self.parts().1
    }

    /// The text after the error code: what an `error_description` says ("missing
    /// code_challenge", "code was already used; ...").
    pub fn detail(&self) -> String {
        let text = self.to_string();
        let code = self.kind().as_str();
        text.strip_prefix(code)
            .and_then(|rest| rest.strip_prefix(": "))
            .map_or_else(|| text.clone(), str::to_owned)
    }

    /// The one table: kind and description of every variant.
    fn parts(&self) -> (ErrorKind, &'static str) {
        use ErrorKind as K;
        match self {
            Self::Core(e) if e.is_invalid_token() => {
                // Forged, expired, wrong kind...: all look alike to the caller.
                (K::of_core(e.kind()), "code or token is invalid or expired")
            }
            Self::Core(e) => (K::of_core(e.kind()), core_detail(*e)),
            Self::MissingField(field) | Self::InvalidField(field) | Self::RepeatedField(field) => {
                (K::InvalidRequest, field)
            }
            Self::UnknownClient => (K::InvalidRequest, "client is not registered"),
            Self::NoSuchClient => (K::NotFound, "client is not registered"),
            Self::PublicClientSecret => {
                (K::InvalidRequest, "a public client has no secret to rotate")
            }
            Self::GraceTooLong => (
                K::InvalidRequest,
                "grace_seconds is longer than 7 days (604800)",
            ),
            Self::GrantNoLongerAllowed => (
                K::InvalidGrant,
                "the client's registration no longer allows this grant (its redirect URI or \
                 scope was removed): authorize again",
            ),
            Self::UnknownAudience => (
                K::InvalidRequest,
                "audience names a client that is not registered",
            ),
            Self::UnregisteredRedirectUri => (
                K::InvalidRequest,
                "redirect_uri is not registered for the client",
            ),
            Self::InvalidRedirectUri => (
                K::InvalidRequest,
                "redirect_uris: an entry is not a redirect URI a client may register (absolute, \
                 without a fragment, at most 512 bytes; see service/README.md)",
            ),
            Self::TooManyRedirectUris => (K::InvalidRequest, "redirect_uris: too many, at most 16"),
            Self::ClientNameTooLong => (K::InvalidRequest, "client_name is longer than 128 bytes"),
            Self::ClientNameControl => (K::InvalidRequest, "client_name has control characters"),
            Self::IntrospectionNeedsCredentials => (
                K::InvalidClient,
                "introspection needs a confidential client's Basic credentials; public clients \
                 cannot introspect",
            ),
            Self::UnsupportedGrantType => (
                K::UnsupportedGrantType,
                "grant_type must be authorization_code, refresh_token or client_credentials",
            ),
            Self::UnsupportedResponseType => {
                (K::UnsupportedResponseType, "response_type must be code")
            }
            Self::NoLoginApp => (
                K::ServerError,
                "no login app is configured (the server's --login-url)",
            ),
            Self::InvalidLoginChallenge => {
                (K::InvalidRequest, "login_challenge is invalid or expired")
            }
            Self::MissingCredentials => (K::InvalidClient, "client authentication required"),
            Self::BadCredentials => (K::InvalidClient, "client authentication failed"),
            Self::BadOperatorToken => (K::InvalidClient, "operator token missing or wrong"),
            Self::DuplicateCredentials => (
                K::InvalidRequest,
                "more than one authorization header: send one credential",
            ),
            Self::Throttled => (
                K::Throttled,
                "too many failed authentications: try again once the failed-auth window \
                 (--failed-auth-window, 60 s by default) has passed",
            ),
            Self::RedirectUriMismatch => (
                K::InvalidGrant,
                "redirect_uri differs from the one the code was issued for",
            ),
            Self::CodeReplayed => (
                K::InvalidGrant,
                "code was already used; the tokens issued from it are revoked",
            ),
            Self::RefreshReused => (
                K::InvalidGrant,
                "refresh token was already used; its grant is revoked",
            ),
            Self::GrantRevoked => (K::InvalidGrant, "refresh token is revoked or superseded"),
            Self::NotTokenOwner => (K::UnauthorizedClient, "token was issued to another client"),
            Self::PublicClientGrant => (
                K::UnauthorizedClient,
                "client_credentials needs a confidential client",
            ),
            Self::Storage(_) => (K::Unavailable, "storage unavailable"),
        }
    }
}

/// The core's request errors described with the wire names of their fields (`code_verifier`,
/// `client_id`), where the core's own text uses plain words; never an input.
fn core_detail(e: tessera_core::Error) -> &'static str {
    match e {
        tessera_core::Error::InvalidRedirectUri => "redirect_uri is invalid or does not match",
        tessera_core::Error::ClientMismatch => "grant was issued to another client",
        tessera_core::Error::PkceMismatch => "code_verifier does not match the code_challenge",
        tessera_core::Error::InvalidCodeVerifier => "code_verifier is malformed",
        tessera_core::Error::InvalidCodeChallenge => "code_challenge is malformed",
        tessera_core::Error::UnsupportedChallengeMethod => "code_challenge_method must be S256",
        tessera_core::Error::InvalidScope => "scope is malformed",
        tessera_core::Error::ScopeNotAllowed => "scope exceeds the allowed scope",
        tessera_core::Error::InvalidSubject => {
            "subject is empty, too long or has control characters"
        }
        tessera_core::Error::InvalidClientId => "client_id is malformed",
        tessera_core::Error::TooManyAudiences => "too many audiences",
        tessera_core::Error::InvalidState => "state has characters outside %x20-7E or is too long",
        tessera_core::Error::MalformedSecret | tessera_core::Error::SecretMismatch => {
            "client authentication failed"
        }
        // Server-side failures (keys, lifetimes) say nothing more to the caller; the variant
        // is in the debug log.
        _ => "request refused",
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (kind, detail) = self.parts();
        match self {
            Self::MissingField(_) => write!(f, "{kind}: missing {detail}"),
            Self::InvalidField(_) => write!(f, "{kind}: malformed {detail}"),
            Self::RepeatedField(_) => write!(f, "{kind}: repeated {detail}"),
            _ => write!(f, "{kind}: {detail}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Core(e) => Some(e),
            Self::Storage(e) => Some(e),
            _ => None,
        }
    }
}
