//! The signed token envelope shared by codes, access tokens, refresh tokens and login challenges
//! (FORMAT.md §2).
//!
//! ```text
//! token = prefix ‖ B64(body ‖ tag)          body = version ‖ kind ‖ key id ‖ claims ‖ pad
//! tag   = HMAC-SHA256(sub-key[kind, key id], prefix ‖ B64(body))[..16]
//! ```
//! The body is padded to a multiple of 3 bytes, so `B64(body ‖ tag) = B64(body) ‖ B64(tag)` and
//! the MAC covers the exact text the holder sent. Verification decodes only the 4-byte header
//! and the 22-character tag before the MAC check: a forged token costs one HMAC and never
//! reaches the claim parser.

mod access;
mod code;
mod login;
mod refresh;
mod wire;

pub use access::{AccessClaims, AccessToken};
pub use code::{AuthorizationCode, CodeClaims, MAX_CODE_LIFETIME};
pub use login::{LoginChallenge, LoginClaims, LoginRequest, MAX_LOGIN_LIFETIME};
pub use refresh::{RefreshClaims, RefreshToken};

use hmac::Mac;

use crate::Error;
use crate::claims::{MAX_AUDIENCE, MAX_SUBJECT_LEN};
use crate::encoding::{base64url_decode, base64url_encode, base64url_len};
use crate::id::ID_LEN;
use crate::keyring::{HmacSha256, KeyId, KeySet, Purpose};
use crate::scope::MAX_SCOPE_LEN;
use crate::secret::SecretText;
use wire::{Reader, Writer};

/// The format version this build mints and accepts.
pub const VERSION: u8 = 1;
/// Length of every token prefix (`tsr_ac_`, `tsr_at_`, `tsr_rt_`, `tsr_lc_`).
pub const PREFIX_LEN: usize = 7;
/// Bytes of the HMAC-SHA256 output kept as the tag (128 bits: forging one succeeds with
/// probability 2^-128 per try, RFC 2104 §5 truncation).
pub const TAG_LEN: usize = 16;
const TAG_TEXT_LEN: usize = base64url_len(TAG_LEN);
/// version (1) ‖ kind (1) ‖ key id (2).
const HEADER_LEN: usize = 4;
/// The header as text: 4 bytes need 6 characters; decode 8 (two whole groups of 3 bytes).
const HEADER_TEXT_LEN: usize = 8;
/// issued-at (u64) ‖ lifetime (u32).
const VALIDITY_LEN: usize = 12;
const GRANT_MIN_LEN: usize = ID_LEN + 2 + 1 + 1;
const GRANT_MAX_LEN: usize =
    ID_LEN + (1 + MAX_SUBJECT_LEN) + (1 + MAX_SCOPE_LEN) + (1 + MAX_AUDIENCE * ID_LEN);
/// Largest padded body of a grant-carrying kind (the code's). A login challenge, which carries
/// the request's text instead, has its own larger capacity (`login::BODY_CAP`), so that this one,
/// the buffer of every access-token verification, does not grow.
const BODY_CAP: usize = padded(HEADER_LEN + VALIDITY_LEN + code::FIXED_LEN + GRANT_MAX_LEN);
const _: () = {
    assert!(code::FIXED_LEN >= access::FIXED_LEN && code::FIXED_LEN >= refresh::FIXED_LEN);
    assert!(VALIDITY_LEN == size_of::<u64>() + size_of::<u32>());
    // The header's text, decoded whole, holds the header.
    assert!(HEADER_TEXT_LEN % 4 == 0 && HEADER_TEXT_LEN / 4 * 3 >= HEADER_LEN);
    assert!(base64url_len(HEADER_LEN) <= HEADER_TEXT_LEN);
};

#[allow(
    clippy::arithmetic_side_effects,
    reason = "only evaluated in const items"
)]
const fn padded(n: usize) -> usize {
    n.div_ceil(3) * 3
}

/// Shortest and longest text of a token whose claims (validity included) take `min` to `max`
/// bytes.
#[allow(
    clippy::arithmetic_side_effects,
    reason = "only evaluated in const items"
)]
const fn envelope_lens(min: usize, max: usize) -> (usize, usize) {
    (
        PREFIX_LEN + base64url_len(padded(HEADER_LEN + min) + TAG_LEN),
        PREFIX_LEN + base64url_len(padded(HEADER_LEN + max) + TAG_LEN),
    )
}

/// Shortest and longest text of a grant-carrying token whose fixed claims take `fixed` bytes.
#[allow(
    clippy::arithmetic_side_effects,
    reason = "only evaluated in const items"
)]
const fn text_lens(fixed: usize) -> (usize, usize) {
    envelope_lens(
        VALIDITY_LEN + fixed + GRANT_MIN_LEN,
        VALIDITY_LEN + fixed + GRANT_MAX_LEN,
    )
}

/// The four kinds of token, their prefixes and their signing purpose (FORMAT.md §1, §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    AuthorizationCode = 1,
    AccessToken = 2,
    RefreshToken = 3,
    LoginChallenge = 4,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Self::AuthorizationCode,
        Self::AccessToken,
        Self::RefreshToken,
        Self::LoginChallenge,
    ];

    const fn prefix(self) -> &'static [u8; PREFIX_LEN] {
        match self {
            Self::AuthorizationCode => b"tsr_ac_",
            Self::AccessToken => b"tsr_at_",
            Self::RefreshToken => b"tsr_rt_",
            Self::LoginChallenge => b"tsr_lc_",
        }
    }

    const fn purpose(self) -> Purpose {
        match self {
            Self::AuthorizationCode => Purpose::AuthorizationCode,
            Self::AccessToken => Purpose::AccessToken,
            Self::RefreshToken => Purpose::RefreshToken,
            Self::LoginChallenge => Purpose::LoginChallenge,
        }
    }

    /// Shortest and longest valid text of this kind.
    const fn lens(self) -> (usize, usize) {
        const CODE: (usize, usize) = text_lens(code::FIXED_LEN);
        const ACCESS: (usize, usize) = text_lens(access::FIXED_LEN);
        const REFRESH: (usize, usize) = text_lens(refresh::FIXED_LEN);
        const LOGIN: (usize, usize) = envelope_lens(login::CLAIMS_MIN_LEN, login::CLAIMS_MAX_LEN);
        match self {
            Self::AuthorizationCode => CODE,
            Self::AccessToken => ACCESS,
            Self::RefreshToken => REFRESH,
            Self::LoginChallenge => LOGIN,
        }
    }
}

/// When a token was issued and how long it lives. `expires_at = issued_at + lifetime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Validity {
    issued_at: u64,
    lifetime: u32,
}

impl Validity {
    /// A validity starting `now`, refusing a zero lifetime, one over `max` or an overflow.
    pub(crate) fn new(now: u64, lifetime: u32, max: u32) -> Result<Self, Error> {
        let v = Self {
            issued_at: now,
            lifetime,
        };
        if lifetime == 0 || lifetime > max || v.expires_at().is_none() {
            return Err(Error::InvalidLifetime);
        }
        Ok(v)
    }

    fn expires_at(self) -> Option<u64> {
        self.issued_at.checked_add(u64::from(self.lifetime))
    }

    fn write<const N: usize>(self, w: &mut Writer<N>) -> Result<(), Error> {
        w.bytes(&self.issued_at.to_be_bytes())?;
        w.bytes(&self.lifetime.to_be_bytes())
    }

    /// Reads a validity and checks it against `now`: valid on `[issued_at, expires_at)`.
    #[inline]
    fn read(r: &mut Reader<'_>, max: u32, now: u64) -> Result<Times, Error> {
        let v = Self {
            issued_at: r.u64()?,
            lifetime: r.u32()?,
        };
        let expires_at = v.expires_at().ok_or(Error::MalformedToken)?;
        if v.lifetime == 0 || v.lifetime > max {
            return Err(Error::MalformedToken);
        }
        if now < v.issued_at {
            return Err(Error::NotYetValid);
        }
        if now >= expires_at {
            return Err(Error::Expired);
        }
        Ok(Times {
            issued_at: v.issued_at,
            expires_at,
        })
    }
}

/// The verified times of a token, in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Times {
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
}

/// Mints a token: header, `claims`, padding, then the prefix, body text and tag (FORMAT.md §2).
///
/// Every buffer is sized at compile time for the largest token of its kind (`B`, the body, and
/// `N`, the text), so the [`Error::BufferTooSmall`] paths are never taken; they keep a wrong
/// bound from panicking.
fn seal<const B: usize, const N: usize>(
    kind: Kind,
    keys: &KeySet,
    claims: impl FnOnce(&mut Writer<B>) -> Result<(), Error>,
) -> Result<SecretText<N>, Error> {
    const { assert!(TAG_LEN <= size_of::<hmac::digest::Output<HmacSha256>>()) };
    let (key_id, mac) = keys.minting(kind.purpose())?;
    let mut body = Writer::<B>::new();
    body.u8(VERSION)?;
    body.u8(kind as u8)?;
    body.bytes(&key_id.get().to_be_bytes())?;
    claims(&mut body)?;
    body.pad()?;

    let body = body.as_slice();
    let signed_len = PREFIX_LEN
        .checked_add(base64url_len(body.len()))
        .ok_or(Error::BufferTooSmall)?;
    let total = signed_len
        .checked_add(TAG_TEXT_LEN)
        .ok_or(Error::BufferTooSmall)?;
    let mut text = SecretText::zeroed(total).ok_or(Error::BufferTooSmall)?;
    let (signed, tag_text) = text
        .as_mut_bytes()
        .split_at_mut_checked(signed_len)
        .ok_or(Error::BufferTooSmall)?;
    let (prefix, body_text) = signed
        .split_at_mut_checked(PREFIX_LEN)
        .ok_or(Error::BufferTooSmall)?;
    prefix.copy_from_slice(kind.prefix());
    base64url_encode(body, body_text).ok_or(Error::BufferTooSmall)?;
    let tag = mac.clone().chain_update(&*signed).finalize().into_bytes();
    let tag = tag.first_chunk::<TAG_LEN>().ok_or(Error::BufferTooSmall)?;
    base64url_encode(tag, tag_text).ok_or(Error::BufferTooSmall)?;
    Ok(text)
}

/// Verifies a token's envelope and returns its key id and a reader over its claims.
///
/// Order (FORMAT.md §4): prefix, length, key id, MAC in constant time; only then decode the
/// body and check version and kind. Nothing in the body is trusted before the MAC passes.
/// `body` holds the largest body of `kind` (`B`).
fn open<'b, const B: usize>(
    kind: Kind,
    keys: &KeySet,
    text: &str,
    body: &'b mut [u8; B],
) -> Result<(KeyId, Reader<'b>), Error> {
    let bytes = text.as_bytes();
    let (prefix, rest) = bytes
        .split_first_chunk::<PREFIX_LEN>()
        .ok_or(Error::MalformedToken)?;
    if prefix != kind.prefix() {
        let other = Kind::ALL.iter().any(|k| k.prefix() == prefix);
        return Err(if other {
            Error::WrongTokenKind
        } else {
            Error::MalformedToken
        });
    }
    let (min, max) = kind.lens();
    if !(min..=max).contains(&bytes.len()) {
        return Err(Error::MalformedToken);
    }
    let signed_len = bytes
        .len()
        .checked_sub(TAG_TEXT_LEN)
        .ok_or(Error::MalformedToken)?;
    let (signed, tag_text) = bytes
        .split_at_checked(signed_len)
        .ok_or(Error::MalformedToken)?;
    let body_text = rest
        .get(..signed_len.saturating_sub(PREFIX_LEN))
        .ok_or(Error::MalformedToken)?;
    if body_text.len() % 4 != 0 {
        return Err(Error::MalformedToken);
    }

    // The key id selects the key; it is authenticated by the MAC that follows.
    let mut header = [0u8; HEADER_TEXT_LEN / 4 * 3];
    let header_text = body_text
        .get(..HEADER_TEXT_LEN)
        .ok_or(Error::MalformedToken)?;
    let header = base64url_decode(header_text, &mut header).ok_or(Error::MalformedToken)?;
    let mut r = Reader::new(header);
    let [_version, _kind] = r.array()?;
    let key_id = KeyId::new(r.u16()?);
    let mac = keys.verifying(kind.purpose(), key_id)?;

    let mut tag = [0u8; TAG_LEN];
    let tag = base64url_decode(tag_text, &mut tag).ok_or(Error::MalformedToken)?;
    mac.clone()
        .chain_update(signed)
        .verify_truncated_left(tag)
        .map_err(|_| Error::BadSignature)?;

    let body = base64url_decode(body_text, body).ok_or(Error::MalformedToken)?;
    let mut r = Reader::new(body);
    if r.u8()? != VERSION {
        return Err(Error::UnsupportedVersion);
    }
    if r.u8()? != kind as u8 {
        return Err(Error::WrongTokenKind);
    }
    r.u16()?;
    Ok((key_id, r))
}

/// Declares a minted token type: a fixed-capacity, zeroizing credential string, with no
/// `PartialEq` (`==` on a credential is not constant-time):
///
/// ```compile_fail
/// fn same(a: &tessera_core::AccessToken, b: &tessera_core::AccessToken) -> bool {
///     a == b // does not compile: no `==` on a token
/// }
/// ```
macro_rules! token_text {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(crate::secret::SecretText<{ $name::MAX_LEN }>);

        impl $name {
            /// Longest text of this kind, in characters.
            pub const MAX_LEN: usize = $kind.lens().1;
            /// Shortest text of this kind, in characters.
            pub const MIN_LEN: usize = $kind.lens().0;

            /// The token text, to send to its holder. Never log it.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }
        }
    };
}
use token_text;
