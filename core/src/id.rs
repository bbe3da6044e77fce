//! Random 128-bit identifiers: client ids, grant ids and token ids, shown as 32 lowercase hex characters.

use core::fmt;

use rand_core::CryptoRng;

use crate::Error;
use crate::encoding::{hex_decode, hex_encode};

/// Length of every identifier in bytes (128 bits, so guessing one has probability 2^-128).
pub const ID_LEN: usize = 16;
/// Length of an identifier's hex form.
pub const ID_HEX_LEN: usize = 32;

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $invalid:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; ID_LEN]);

        impl $name {
            /// Draws a fresh identifier from the caller's CSPRNG.
            pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
                let mut bytes = [0u8; ID_LEN];
                rng.fill_bytes(&mut bytes);
                Self(bytes)
            }

            /// Wraps raw bytes (as stored by a server).
            pub const fn from_bytes(bytes: [u8; ID_LEN]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; ID_LEN] {
                &self.0
            }

            /// Parses the 32-character lowercase hex form.
            ///
            /// # Errors
            #[doc = concat!("[`Error::", stringify!($invalid), "`] for any other text.")]
            pub fn parse(text: &str) -> Result<Self, Error> {
                hex_decode(text.as_bytes()).map(Self).ok_or(Error::$invalid)
            }

            /// Writes the hex form into `out` and returns it.
            pub fn encode<'a>(&self, out: &'a mut [u8; ID_HEX_LEN]) -> &'a str {
                hex_encode(&self.0, out)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.encode(&mut [0u8; ID_HEX_LEN]))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }
    };
}

random_id! {
    /// A client's public identifier (`client_id`, RFC 6749 §2.2): 128 random bits.
    ///
    /// ```
    /// let id = tessera_core::ClientId::parse("00112233445566778899aabbccddeeff")?;
    /// assert_eq!(id.to_string(), "00112233445566778899aabbccddeeff");
    /// # Ok::<(), tessera_core::Error>(())
    /// ```
    ClientId, InvalidClientId
}

random_id! {
    /// The unique id of one authorization grant: minted into the code and carried by every
    /// access and refresh token issued from it, so one revocation covers them all.
    GrantId, InvalidGrantId
}

random_id! {
    /// The unique id of one access token, refresh token or login challenge (`jti`, RFC 7662 §2.2).
    TokenId, InvalidTokenId
}
