#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "tests"
    )
)]

/// The workspace README's examples run as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;

mod claims;
pub mod encoding;
mod error;
mod id;
#[doc(hidden)]
pub mod internal;
mod keyring;
mod pkce;
mod provision;
mod redirect;
mod scope;
mod secret;
mod token;

pub use claims::{
    Audience, Grant, MAX_AUDIENCE, MAX_REDIRECT_URI_LEN, MAX_STATE_LEN, MAX_SUBJECT_LEN,
    RedirectUriDigest, State, Subject,
};
pub use error::{Error, ErrorKind};
pub use id::{ClientId, GrantId, ID_HEX_LEN, ID_LEN, TokenId};
pub use keyring::{KEY_LEN, KeyId, KeySet, Keyring, MAX_KEYS, MasterKey, Purpose, SubKey};
pub use pkce::{
    CHALLENGE_LEN, CHALLENGE_TEXT_LEN, ChallengeMethod, CodeChallenge, CodeVerifier,
    MAX_VERIFIER_LEN, MIN_VERIFIER_LEN,
};
pub use provision::{
    PROVISIONING_MAX_LEN, PROVISIONING_MIN_LEN, PROVISIONING_VERSION, Provisioning,
};
pub use redirect::{redirect_uri_matches, validate_redirect_uri};
pub use scope::{MAX_SCOPE_LEN, MAX_SCOPE_TOKENS, Scope};
pub use secret::{
    ClientSecret, SECRET_LEN, SECRET_PREFIX, SECRET_TEXT_LEN, SecretText, SecretVerifier,
    VERIFIER_LEN,
};
pub use token::{
    AccessClaims, AccessToken, AuthorizationCode, CodeClaims, LoginChallenge, LoginClaims,
    LoginRequest, MAX_CODE_LIFETIME, MAX_LOGIN_LIFETIME, PREFIX_LEN, RefreshClaims, RefreshToken,
    TAG_LEN, VERSION,
};
