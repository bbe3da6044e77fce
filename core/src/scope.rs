//! Access token scope (RFC 6749 §3.3): space-delimited scope-tokens, bounded in count and length.

use core::fmt;

use crate::Error;

/// Longest scope string accepted, in bytes.
pub const MAX_SCOPE_LEN: usize = 128;
/// Most scope-tokens in one scope.
pub const MAX_SCOPE_TOKENS: usize = 16;

/// A validated scope: zero or more distinct scope-tokens separated by single spaces.
///
/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )` (RFC 6749 §3.3). The text is kept exactly as
/// given, so a scope minted into a token reads back byte for byte.
///
/// ```
/// use tessera_core::Scope;
/// let allowed = Scope::parse("openid profile email")?;
/// let asked = Scope::parse("email openid")?;
/// assert!(asked.is_subset_of(&allowed));
/// assert!(Scope::parse("openid  profile").is_err()); // double space
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Scope(heapless::String<MAX_SCOPE_LEN>);

const fn is_scope_char(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

impl Scope {
    /// The empty scope.
    pub const fn empty() -> Self {
        Self(heapless::String::new())
    }

    /// Parses and validates a scope string.
    ///
    /// # Errors
    /// [`Error::InvalidScope`] for a leading, trailing or doubled space, a character outside
    /// the scope-token set, a repeated scope-token, more than [`MAX_SCOPE_TOKENS`] tokens or
    /// more than [`MAX_SCOPE_LEN`] bytes.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_SCOPE_LEN {
            return Err(Error::InvalidScope);
        }
        if !text.is_empty() {
            let mut count = 0usize;
            for (i, token) in text.split(' ').enumerate() {
                if token.is_empty() || !token.bytes().all(is_scope_char) {
                    return Err(Error::InvalidScope);
                }
                if text.split(' ').take(i).any(|earlier| earlier == token) {
                    return Err(Error::InvalidScope);
                }
                count = count.saturating_add(1);
            }
            if count > MAX_SCOPE_TOKENS {
                return Err(Error::InvalidScope);
            }
        }
        let mut s = heapless::String::new();
        s.push_str(text).map_err(|_| Error::InvalidScope)?;
        Ok(Self(s))
    }

    /// A scope read from a verified token body: its syntax was checked when it was minted.
    #[inline]
    pub(crate) fn from_verified(text: &str) -> Option<Self> {
        let mut s = heapless::String::new();
        s.push_str(text).ok()?;
        Some(Self(s))
    }

    /// The scope as it appears on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the empty scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scope-tokens, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ').filter(|t| !t.is_empty())
    }

    /// True if `token` is one of this scope's tokens.
    pub fn contains(&self, token: &str) -> bool {
        self.iter().any(|t| t == token)
    }

    /// True if every token of `self` is in `other` (the empty scope is a subset of all).
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.iter().all(|t| other.contains(t))
    }

    /// Checks that `self` asks for nothing beyond `allowed`.
    ///
    /// # Errors
    /// [`Error::ScopeNotAllowed`] if a token of `self` is not in `allowed`.
    pub fn check_within(&self, allowed: &Scope) -> Result<(), Error> {
        if self.is_subset_of(allowed) {
            Ok(())
        } else {
            Err(Error::ScopeNotAllowed)
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_rfc_character_set() {
        assert!(Scope::parse("").unwrap().is_empty());
        assert!(Scope::parse("a").is_ok());
        assert!(Scope::parse("!#[]~ api:read https://x/y").is_ok());
        for bad in ["a\"b", "a\\b", "a\tb", " a", "a ", "a  b", "a b a", "é"] {
            assert_eq!(Scope::parse(bad), Err(Error::InvalidScope), "{bad:?}");
        }
    }

    #[test]
    fn bounds_count_and_length() {
        let sixteen = "a b c d e f g h i j k l m n o p";
        assert!(Scope::parse(sixteen).is_ok());
        assert_eq!(
            Scope::parse("a b c d e f g h i j k l m n o p q"),
            Err(Error::InvalidScope)
        );
        let long = [b'x'; MAX_SCOPE_LEN + 1];
        assert_eq!(
            Scope::parse(core::str::from_utf8(&long).unwrap()),
            Err(Error::InvalidScope)
        );
        let max = [b'x'; MAX_SCOPE_LEN];
        assert!(Scope::parse(core::str::from_utf8(&max).unwrap()).is_ok());
    }

    #[test]
    fn subset() {
        let all = Scope::parse("read write admin").unwrap();
        assert!(Scope::parse("write read").unwrap().is_subset_of(&all));
        assert!(Scope::empty().is_subset_of(&all));
        assert_eq!(
            Scope::parse("read delete").unwrap().check_within(&all),
            Err(Error::ScopeNotAllowed)
        );
        assert!(!Scope::parse("rea").unwrap().is_subset_of(&all));
    }
}
